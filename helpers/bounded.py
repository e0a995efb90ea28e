"""Run a child program (Quarto, and the pandoc and Python processes it starts) within bounds of
memory and time, so that no input can make a build grow without limit or hang.

The bound is on the resident memory of the child's whole process tree, read with psutil every
quarter second: a limit on address space (RLIMIT_AS) would break Deno and pandoc, which reserve
far more address space than they use. Past a bound, the child's process group is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Limits:
    memory_mb: float  # resident memory of the whole process tree
    seconds: float    # wall time


def run_bounded(command: list[str], *, cwd: Path, env: dict[str, str], limits: Limits) -> tuple[int, str, str | None]:
    """Run `command` to its end or to a bound; returns its exit code, its output (stdout and
    stderr together) and, if it was stopped, why (None otherwise)."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            stopped = _watch(process, limits)
        finally:
            if process.poll() is None:  # stopped by a bound, or interrupted (Ctrl-C)
                _kill_tree(process)
        output.seek(0)
        text = output.read().decode("utf-8", errors="replace")
    return process.returncode, text, stopped


def _watch(process: subprocess.Popen, limits: Limits) -> str | None:
    deadline = time.monotonic() + limits.seconds
    while True:
        try:
            process.wait(timeout=POLL_SECONDS)
            return None
        except subprocess.TimeoutExpired:
            pass
        used = _tree_memory_mb(process.pid)
        if used > limits.memory_mb:
            _kill_tree(process)
            return (f"its processes used {used:,.0f} MB of memory, more than the bound of "
                    f"{limits.memory_mb:,.0f} MB (TOPIC_REPORT_RENDER_MEMORY_MB)")
        if time.monotonic() > deadline:
            _kill_tree(process)
            return f"it ran longer than the bound of {limits.seconds:,.0f} s (TOPIC_REPORT_RENDER_SECONDS)"


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _tree_memory_mb(pid: int) -> float:
    total = 0
    for process in _tree(pid):
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:  # ended meanwhile
            pass
    return total / 2**20


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill the child, its process group and any descendant that left the group."""
    descendants = _tree(process.pid)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for child in descendants:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    process.wait()
