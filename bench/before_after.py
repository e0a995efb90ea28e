"""Issue 18's goals, measured on this checkout's code and on the code it started from, in the
same run (so the shared machine's load weighs on both alike), each through the command line:

- a build with nothing changed (`build --offline`, the three topics of topics.yml from the sample);
- one 10,350-paper topic (both real corpora) built from its store: wall time and the largest
  process's peak memory (the build or its notebook kernel), then its page in Chromium, served on
  the loopback: what the first load downloads (gzip), the page alone, time to an interactive table;
- a 10-paper topic's page, the same way;
- 200 topics on the 6,608-paper June corpus (one title word each, since 2026-06-01): the first
  fetch, then a quiet day (nothing new): requests and entries downloaded, from the emulator's log.

The "before" is a commit (default: where this branch left main) checked out into a temporary git
worktree, imported instead of this checkout's `helpers/` (a folder on PYTHONPATH whose
`topic_report` links to that worktree's `helpers/`).

    python bench/before_after.py [--before REF]

Prints a markdown table: each measurement before, after, and after / before.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from topic_report.store import FetchRecord, Store, utc_now  # noqa: E402
from topic_report.topics import Topic, load_topics  # noqa: E402

from arxiv_server import SHARED_DIR, ArxivEmulator, load_jsonl  # noqa: E402
from page_size import ALL_CORPORA, MB, in_chromium, load_corpora  # noqa: E402

DAILY_CORPUS = SHARED_DIR / "corpora" / "daily-mixed-2026-06.jsonl"
QUIET_TOPICS = 200
NO_OP_RUNS = 3


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


def cli(code: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, int, str]:
    """Run `topic-report ARGS` with that code: wall seconds, peak memory of its largest process (KB), output."""
    command = ["/usr/bin/time", "-f", "peak-kb %M", sys.executable, "-m", "topic_report", *args]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {}), "PYTHONPATH": str(code)})
    seconds = time.monotonic() - started
    if done.returncode:
        raise SystemExit(f"topic-report {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, int(re.search(r"peak-kb (\d+)", done.stderr)[1]), done.stdout


def no_op_build(code: Path, work: Path) -> dict[str, float]:
    project = work / "no-op"
    project.mkdir()
    shutil.copy(ROOT / "topics.yml", project / "topics.yml")
    cli(code, "build", "--offline", cwd=project)
    runs = sorted(cli(code, "build", "--offline", cwd=project)[0] for _ in range(NO_OP_RUNS))
    return {"no-op build (s, median of 3)": runs[len(runs) // 2]}


def stored_topic(work: Path, topic: Topic, papers) -> Path:
    """A project holding `topic` with `papers` in its store, as a first fetch would leave it."""
    work.mkdir()
    (work / "topics.yml").write_text(yaml.safe_dump({"topics": [topic.model_dump(mode="json", exclude_none=True)]}))
    with Store(work / "data" / "papers.sqlite") as store:
        store.save_fetch(topic.slug, papers, started_at=utc_now(), requests=1, record=FetchRecord(
            kind="window", since=min(p.published for p in papers), until=utc_now(),
            matched_terms=topic.terms_matched(papers)))
    return work


def page_build(code: Path, work: Path, topic: Topic, papers, label: str) -> dict[str, float]:
    project = stored_topic(work / label, topic, papers)
    seconds, peak_kb, _ = cli(code, "build", "--offline", cwd=project)
    seen = in_chromium(project / "_site", f"{topic.slug}.html", None)
    result = {f"{label}: first load (MB gzip, every file)": seen["gzip"] / MB,
              f"{label}: the page alone (MB gzip)": seen["page_gzip"] / MB,
              f"{label}: table interactive (s)": seen["interactive_ms"] / 1000}
    if len(papers) > 1000:
        result |= {f"{label}: build (s)": seconds, f"{label}: build peak memory (MB)": peak_kb / 1000}
    return result


def quiet_day(code: Path, work: Path) -> dict[str, float]:
    """200 topics fetched, then fetched again with nothing new: the second run's cost."""
    records = load_jsonl(DAILY_CORPUS)
    words = collections.Counter(word for record in records for word in set(re.findall(r"[a-z]{6,}", record["title"].lower())))
    topics = [{"name": f"Word {word}", "slug": f"word-{word}", "terms": [word], "since": "2026-06-01"}
              for word, _ in words.most_common(QUIET_TOPICS)]
    project = work / "quiet"
    project.mkdir()
    (project / "topics.yml").write_text(yaml.safe_dump({"topics": topics}))
    with ArxivEmulator(papers=records, recorded_dir=None) as emulator:
        env = {"ARXIV_API_URL": emulator.url, "ARXIV_DELAY_SECONDS": "0"}
        cli(code, "fetch", cwd=project, env=env)
        before = len(emulator.requests)
        seconds = cli(code, "fetch", cwd=project, env=env)[0]
        quiet = emulator.requests[before:]
    return {"200 quiet topics: requests": len(quiet), "200 quiet topics: entries downloaded": sum(r.entries for r in quiet),
            "200 quiet topics: fetch (s, no request delay)": seconds}


def measure(code: Path, work: Path) -> dict[str, float]:
    reconstruction = next(t for t in load_topics(ROOT / "topics.yml") if t.slug == "3d-reconstruction")
    everything = reconstruction.model_copy(update={"name": "Benchmark: ten thousand papers", "slug": "benchmark"})
    papers = load_corpora(ALL_CORPORA)
    ten = reconstruction.model_copy(update={"name": "Ten papers", "slug": "ten"})
    return (no_op_build(code, work) | page_build(code, work, everything, papers, "10,350 papers")
            | page_build(code, work, ten, papers[:10], "10 papers") | quiet_day(code, work))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REF", help="the code to compare with (default: git merge-base HEAD main)")
    args = parser.parse_args()
    before_ref = args.before or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
                                               capture_output=True, text=True, check=True).stdout.strip()
    results = {}
    with tempfile.TemporaryDirectory(prefix="topic-report-before-after-") as tmp:
        for label, ref in (("before", before_ref), ("after", None)):
            with code_of(ref, Path(tmp)) as code:
                work = Path(tmp) / f"{label}-work"
                work.mkdir()
                results[label] = measure(code, work)
                print(f"{label} ({ref or 'this checkout'}): {json.dumps(results[label])}", file=sys.stderr, flush=True)
    print(f"| measurement | before ({before_ref[:7]}) | after | after / before |\n|---|---|---|---|")
    for name, before in results["before"].items():
        after = results["after"][name]
        print(f"| {name} | {_figure(before)} | {_figure(after)} | {after / before if before else float('nan'):.3f} |")


def _figure(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


if __name__ == "__main__":
    main()
