"""Issue 18's goals, measured on this checkout's code and on the code it started from, in the
same run (so the shared machine's load weighs on both alike), each through the command line:

- a build with nothing changed (`build --offline`, the three topics of topics.yml from the sample);
- one topic of (almost) every paper of both real corpora (10,319 of 10,498: "the", "a" or "we"),
  fetched from the emulator by the code under test (so each side's store is of its own schema),
  then built: wall time and the largest process's peak memory (the build or its notebook kernel),
  then its page in Chromium, served on the loopback: what the first load downloads (gzip), the
  page alone, time to an interactive table;
- a 10-paper topic's page, the same way;
- 200 topics on the 6,608-paper June corpus (one title word each, since 2026-06-01): the first
  fetch, then a quiet day (nothing new): requests and entries downloaded, from the emulator's log;
- the same 200 topics built; then one of them gets a new paper: the build that follows, and how
  many pages it executed;
- a 50,000-paper topic: a synthetic corpus, the two real corpora five times over, each copy's ids
  given another first digit (2606.01234 → 3606.01234 …), served by the emulator and fetched, then
  built: wall time and the largest process's peak memory of each;
- the 10,350-paper topic (the 3D topic's definition over both corpora) stored directly, as
  bench/page_size.py stores it, then built: CPU time, wall time and the load average after it.

Each build's peak memory is given for its largest process, and for the build process and its
largest child (the notebook kernel) apart.

The "before" is a commit (default: where this branch left main) checked out into a temporary git
worktree, imported instead of this checkout's `helpers/` (a folder on PYTHONPATH whose
`topic_report` links to that worktree's `helpers/`).

    python bench/before_after.py [--before REF] [--side before|after|both] [--measure GROUP ...]
                                 [--results FILE]

Prints a markdown table: each measurement before, after, and after / before. With `--results`,
each side's figures are also kept in FILE (JSON) and merged with those it holds, so the two sides
can be measured in separate runs (the before side does not change while this branch does).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from topic_report.store import utc_now  # noqa: E402

from arxiv_server import SHARED_DIR, ArxivEmulator, load_jsonl  # noqa: E402
from page_size import ALL_CORPORA, MB, in_chromium  # noqa: E402

DAILY_CORPUS = SHARED_DIR / "corpora" / "daily-mixed-2026-06.jsonl"
QUIET_TOPICS = 200
NO_OP_RUNS = 3
# A topic of (almost) every paper of a corpus: one of these words is in nearly every title or abstract.
EVERYTHING = {"name": "Everything", "slug": "everything", "terms": ["the", "a", "we"], "since": "2023-01-01"}
# The synthetic 50,000-paper corpus: the real corpora (10,498 records) this many times over.
LARGE_COPIES = 5


@contextlib.contextmanager
def code_of(ref: str | None, work: Path) -> Iterator[Path]:
    """A folder to put on PYTHONPATH so that `topic_report` is the code of `ref` (None: this checkout)."""
    shim = work / ("before" if ref else "after")
    shim.mkdir()
    if ref is None:
        (shim / "topic_report").symlink_to(ROOT / "helpers")
        yield shim
        return
    tree = work / "before-tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), ref], check=True)
    try:
        (shim / "topic_report").symlink_to(tree / "helpers")
        yield shim
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)


class Run(NamedTuple):
    seconds: float  # wall time
    peak_kb: int    # peak memory of its largest process (the command or a child: the notebook kernel)
    output: str
    cpu: float      # CPU seconds (user and system) of the command and its children: what other work on the machine does not inflate
    command_kb: int   # peak memory of the command's own process (the build process: papermill, nbconvert, the exports)
    children_kb: int  # of its largest child (the notebook kernel, or Quarto's)


# Runs `topic-report ARGS` in this interpreter and prints, at its exit, the peak memory of its own
# process and of its largest child, and their CPU time (getrusage: a child's once it was waited
# for). Peaks are each process's VmHWM, read by a thread of this one every 50 ms (a child's until
# it ends; its peak is its high-water mark, so a late reading loses nothing): not getrusage's
# ru_maxrss, which Linux carries over a fork and exec, so that a child started by a large
# process (the kernel by the build, the build by this bench) would count its parent's memory.
PEAKS = """
import atexit, resource, runpy, sys, threading, time
import psutil

def high_water(process):
    try:
        with open(f"/proc/{process.pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0

child_peaks = {}
def watch():
    me = psutil.Process()
    while True:
        for child in me.children(recursive=True):
            child_peaks[child.pid] = max(child_peaks.get(child.pid, 0), high_water(child))
        time.sleep(0.05)

def peaks():
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
    print(f"peaks-kb {high_water(psutil.Process())} {max(child_peaks.values(), default=0)} cpu {cpu}", file=sys.stderr)

threading.Thread(target=watch, daemon=True).start()
atexit.register(peaks)
sys.argv[0] = "topic-report"
runpy.run_module("topic_report", run_name="__main__")
"""


def cli(code: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run `topic-report ARGS` with that code."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", PEAKS, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {}), "PYTHONPATH": str(code)})
    seconds = time.monotonic() - started
    if done.returncode:
        raise SystemExit(f"topic-report {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    measured = re.search(r"peaks-kb (\d+) (\d+) cpu ([\d.]+)", done.stderr)
    command_kb, children_kb = int(measured[1]), int(measured[2])
    return Run(seconds, max(command_kb, children_kb), done.stdout, float(measured[3]), command_kb, children_kb)


def no_op_build(code: Path, work: Path) -> dict[str, float]:
    project = work / "no-op"
    project.mkdir()
    shutil.copy(ROOT / "topics.yml", project / "topics.yml")
    cli(code, "build", "--offline", cwd=project)
    runs = sorted(cli(code, "build", "--offline", cwd=project)[0] for _ in range(NO_OP_RUNS))
    return {"no-op build (s, median of 3)": runs[len(runs) // 2]}


def fetched_project(code: Path, project: Path, topic: dict, records: list[dict]) -> tuple[float, int, int]:
    """A project of `topic` whose papers the code under test fetched from the emulator serving
    `records` (so each side's store is of its own schema): fetch seconds, peak memory (KB), papers stored."""
    project.mkdir()
    (project / "topics.yml").write_text(yaml.safe_dump({"topics": [topic]}))
    with ArxivEmulator(papers=records, recorded_dir=None) as emulator:
        fetched = cli(code, "fetch", cwd=project, env={"ARXIV_API_URL": emulator.url, "ARXIV_DELAY_SECONDS": "0"})
    # Read without the Store of this checkout, which would upgrade the before side's store.
    with contextlib.closing(sqlite3.connect(f"file:{project / 'data' / 'papers.sqlite'}?mode=ro", uri=True)) as db:
        stored = db.execute("SELECT count(*) FROM topic_papers WHERE topic = ?", (topic["slug"],)).fetchone()[0]
    return fetched.seconds, fetched.peak_kb, stored


def page_build(code: Path, work: Path, records: list[dict], label: str) -> dict[str, float]:
    """A topic of every paper of `records` ("the", "a" or "we" in title or abstract) fetched, then
    built; its page in Chromium."""
    topic = {**EVERYTHING, "max_results": 2 * len(records)}
    project = work / label
    _, _, stored = fetched_project(code, project, topic, records)
    built = cli(code, "build", "--offline", cwd=project)
    seen = in_chromium(project / "_site", f"{topic['slug']}.html", None)
    result = {f"{label}: first load (MB gzip, every file)": seen["gzip"] / MB,
              f"{label}: the page alone (MB gzip)": seen["page_gzip"] / MB,
              f"{label}: table interactive (s)": seen["interactive_ms"] / 1000}
    if stored > 1000:
        result |= {f"{label}: papers": stored, f"{label}: build (s)": built.seconds,
                   f"{label}: build CPU (s)": built.cpu, f"{label}: build peak memory (MB)": built.peak_kb / 1000,
                   f"{label}: build process peak memory (MB)": built.command_kb / 1000,
                   f"{label}: notebook kernel peak memory (MB)": built.children_kb / 1000}
    return result


def word_topics(records: list[dict]) -> list[dict]:
    """200 topics of the June corpus: one common title word each, since 2026-06-01."""
    words = collections.Counter(word for record in records for word in set(re.findall(r"[a-z]{6,}", record["title"].lower())))
    return [{"name": f"Word {word}", "slug": f"word-{word}", "terms": [word], "since": "2026-06-01"}
            for word, _ in words.most_common(QUIET_TOPICS)]


def quiet_day(code: Path, work: Path) -> dict[str, float]:
    """200 topics fetched, then fetched again with nothing new: the second run's cost."""
    records = load_jsonl(DAILY_CORPUS)
    project = work / "quiet"
    project.mkdir()
    (project / "topics.yml").write_text(yaml.safe_dump({"topics": word_topics(records)}))
    with ArxivEmulator(papers=records, recorded_dir=None) as emulator:
        env = {"ARXIV_API_URL": emulator.url, "ARXIV_DELAY_SECONDS": "0"}
        cli(code, "fetch", cwd=project, env=env)
        before = len(emulator.requests)
        seconds = cli(code, "fetch", cwd=project, env=env)[0]
        quiet = emulator.requests[before:]
    return {"200 quiet topics: requests": len(quiet), "200 quiet topics: entries downloaded": sum(r.entries for r in quiet),
            "200 quiet topics: fetch (s, no request delay)": seconds}


def one_changed(code: Path, work: Path) -> dict[str, float]:
    """The 200 topics fetched and built; then a paper new in one of them only: the fetch and build
    after it, and how many pages that build executed."""
    records = load_jsonl(DAILY_CORPUS)
    topics = word_topics(records)
    project = work / "one-changed"
    project.mkdir()
    (project / "topics.yml").write_text(yaml.safe_dump({"topics": topics}))
    with ArxivEmulator(papers=records, recorded_dir=None) as emulator:
        env = {"ARXIV_API_URL": emulator.url, "ARXIV_DELAY_SECONDS": "0"}
        cli(code, "fetch", cwd=project, env=env)
        cli(code, "build", "--offline", cwd=project)
        # A paper submitted now whose only word of the 200 is the least common one: one topic matches it.
        now, word = utc_now().isoformat(), topics[-1]["terms"][0]
        emulator.add([{**records[0], "id": "2606.99999", "title": f"A study of {word}", "abstract": word,
                       "published": now, "updated": now}])
        cli(code, "fetch", cwd=project, env=env)
        built = cli(code, "build", "--offline", cwd=project)
    return {"200 topics, one changed: pages executed": built.output.count("page executed"),
            "200 topics, one changed: build (s)": built.seconds, "200 topics, one changed: build CPU (s)": built.cpu,
            "200 topics, one changed: build peak memory (MB)": built.peak_kb / 1000}


def large_corpus() -> list[dict]:
    """The real corpora LARGE_COPIES times over, each copy's ids given another first digit."""
    records = [record for name in ALL_CORPORA for record in load_jsonl(SHARED_DIR / "corpora" / name)]
    return [{**record, "id": f"{copy + 2}{record['id'][1:]}"} for copy in range(LARGE_COPIES) for record in records]


def large_topic(code: Path, work: Path) -> dict[str, float]:
    """A topic of every paper of the synthetic 50,000-paper corpus: fetched, then built."""
    records = large_corpus()
    project = work / "large"
    fetch_seconds, fetch_peak_kb, stored = fetched_project(code, project, {**EVERYTHING, "max_results": 2 * len(records)},
                                                           records)
    built = cli(code, "build", "--offline", cwd=project)
    return {"50,000-paper topic: papers stored": stored, "50,000-paper topic: fetch (s)": fetch_seconds,
            "50,000-paper topic: fetch peak memory (MB)": fetch_peak_kb / 1000,
            "50,000-paper topic: build (s)": built.seconds, "50,000-paper topic: build CPU (s)": built.cpu,
            "50,000-paper topic: build peak memory (MB)": built.peak_kb / 1000,
            "50,000-paper topic: build process peak memory (MB)": built.command_kb / 1000,
            "50,000-paper topic: notebook kernel peak memory (MB)": built.children_kb / 1000}


# Stores the 10,350-paper topic (the 3D topic's definition over both corpora) into a new project,
# directly, as bench/page_size.py does, with the code under test (its store, of its own schema).
STORE_TOPIC = """
import sys, yaml
from pathlib import Path
from page_size import cases, load_corpora
from topic_report.store import FetchRecord, Store, utc_now

project = Path(sys.argv[1])
case = next(case for case in cases() if case.label == "10350")
project.mkdir()
(project / "topics.yml").write_text(yaml.safe_dump({"topics": [case.topic.model_dump(mode="json", exclude_none=True)]}))
papers = load_corpora(case.corpora, case.papers)
with Store(project / "data" / "papers.sqlite") as store:
    store.save_fetch(case.topic.slug, papers, started_at=utc_now(), requests=1, record=FetchRecord(
        kind="window", since=min(p.published for p in papers), until=utc_now(), matched_terms=case.topic.terms_matched(papers)))
"""


def stored_topic(code: Path, work: Path) -> dict[str, float]:
    """The 10,350-paper topic stored directly (STORE_TOPIC), then built: the build's CPU time,
    wall time (with the load average then) and the peak memory of each process."""
    project = work / "stored"
    subprocess.run([sys.executable, "-c", STORE_TOPIC, str(project)], check=True,
                   env={**os.environ, "PYTHONPATH": f"{code}{os.pathsep}{ROOT / 'bench'}"})
    built = cli(code, "build", "--offline", cwd=project)
    return {"10,350-paper topic stored: build CPU (s)": built.cpu, "10,350-paper topic stored: build (s)": built.seconds,
            "10,350-paper topic stored: load average after the build": os.getloadavg()[0],
            "10,350-paper topic stored: build process peak memory (MB)": built.command_kb / 1000,
            "10,350-paper topic stored: notebook kernel peak memory (MB)": built.children_kb / 1000}


def measure(code: Path, work: Path, groups: list[str]) -> Iterator[dict[str, float]]:
    """Each group's figures, as it is measured."""
    both = [record for name in ALL_CORPORA for record in load_jsonl(SHARED_DIR / "corpora" / name)]
    measurements = {
        "no-op": lambda: no_op_build(code, work),
        "large-page": lambda: page_build(code, work, both, "both corpora"),
        "small-page": lambda: page_build(code, work, both[:10], "10 papers"),
        "quiet-day": lambda: quiet_day(code, work),
        "one-changed": lambda: one_changed(code, work),
        "large-topic": lambda: large_topic(code, work),
        "stored-topic": lambda: stored_topic(code, work),
    }
    for group in groups:
        measured = measurements[group]()
        print(f"{group}: {json.dumps(measured)}", file=sys.stderr, flush=True)
        yield measured


MEASUREMENT_GROUPS = ["no-op", "large-page", "small-page", "quiet-day", "one-changed", "large-topic", "stored-topic"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REF", help="the code to compare with (default: git merge-base HEAD main)")
    parser.add_argument("--side", choices=["before", "after", "both"], default="both", help="which code to measure")
    parser.add_argument("--measure", nargs="+", choices=MEASUREMENT_GROUPS, default=MEASUREMENT_GROUPS,
                        metavar="GROUP", help=f"what to measure (default: all of {', '.join(MEASUREMENT_GROUPS)})")
    parser.add_argument("--results", type=Path, metavar="FILE", help="keep each side's figures in FILE (JSON), merged")
    args = parser.parse_args()
    before_ref = args.before or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
                                               capture_output=True, text=True, check=True).stdout.strip()
    results = json.loads(args.results.read_text()) if args.results and args.results.exists() else {}
    sides = [("before", before_ref), ("after", None)]
    with tempfile.TemporaryDirectory(prefix="topic-report-before-after-") as tmp:
        for label, ref in (side for side in sides if args.side in (side[0], "both")):
            with code_of(ref, Path(tmp)) as code:
                work = Path(tmp) / f"{label}-work"
                work.mkdir()
                for measured in measure(code, work, args.measure):
                    results[label] = results.get(label, {}) | measured
                    if args.results:  # after each group: a run stopped early keeps what it measured
                        args.results.write_text(json.dumps(results, indent=1))
    print(f"| measurement | before ({before_ref[:7]}) | after | after / before |\n|---|---|---|---|")
    for name in dict.fromkeys([*results.get("before", {}), *results.get("after", {})]):
        before, after = results.get("before", {}).get(name), results.get("after", {}).get(name)
        ratio = f"{after / before:.3f}" if before and after is not None else ""
        print(f"| {name} | {_figure(before)} | {_figure(after)} | {ratio} |")


def _figure(value: float | None) -> str:
    if value is None:
        return "not measured"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


if __name__ == "__main__":
    main()
