"""Benchmarks of the data layer against the loopback emulator serving the real corpora.

Run: `make bench` (or `python bench/run.py`). Prints a markdown table; README quotes it.
The request delay is 0 here: against arXiv add ARXIV_DELAY_SECONDS (3 s) per request.

`python bench/run.py --memory`: a fetch's memory, for a topic of every paper of both corpora
(10,319 papers) and of the synthetic 50,000-paper corpus (bench/before_after.py's): the first
fetch and a quiet day's (nothing new), each in a process of its own that imports what a fetch
does (peak RSS and CPU time from /proc's VmHWM and getrusage; the emulator runs in this one).
`--memory-parts`: where a fetch that held its papers put its memory (tracemalloc, in a process
of its own): parsing one full page, the papers of every page held as Paper objects, saving them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import arxiv  # noqa: E402
import requests  # noqa: E402

from topic_report.arxiv.feed import parse_page  # noqa: E402
from topic_report.arxiv.paging import ArxivSource  # noqa: E402
from topic_report.arxiv.query import Window, build_query, request_url  # noqa: E402
from topic_report.fetching import fetch_topic  # noqa: E402
from topic_report.settings import API_MAX_RESULTS_PER_QUERY, from_env  # noqa: E402
from topic_report.store import FetchRecord, Store, utc_now  # noqa: E402
from topic_report.topics import Topic  # noqa: E402

from arxiv_server import SHARED_DIR, ArxivEmulator, load_jsonl  # noqa: E402

rows: list[tuple[str, str]] = []


@contextmanager
def timed(label: str, detail=lambda: ""):
    start = time.perf_counter()
    yield
    rows.append((label, f"{time.perf_counter() - start:.2f} s {detail()}".strip()))


def main() -> None:
    from topic_report.digest import render_digest  # not in --memory's processes: pandas alone is 40 MB
    from topic_report.frame import load_frame

    corpora = SHARED_DIR / "corpora"
    papers = load_jsonl(corpora / "3d-reconstruction-real.jsonl") + load_jsonl(corpora / "daily-mixed-2026-06.jsonl")
    since = date(2023, 1, 1)
    everything = Topic(name="Everything", slug="everything", terms=["the", "a", "we"], max_results=20_000, since=since)
    three_d = Topic(name="3D", slug="3d", terms=["3D reconstruction", "Gaussian splatting", "NeRF", "point cloud"],
                    categories=["cs.CV", "cs.GR", "cs.RO"], max_results=20_000, since=since)
    with tempfile.TemporaryDirectory() as tmp, ArxivEmulator(papers=papers, recorded_dir=None) as emu:
        os.environ.update(ARXIV_API_URL=emu.url, ARXIV_DELAY_SECONDS="0", TOPIC_REPORT_DB=f"{tmp}/b.sqlite")
        settings = from_env()
        source = ArxivSource(settings, progress=False)
        with Store(settings.db_path) as store:
            for topic in (three_d, everything):
                outcome = None
                with timed(f"first fetch, topic '{topic.name}'",
                           lambda: f"({outcome.counts.fetched} papers, {outcome.requests} requests)"):  # noqa: B023 (called in this iteration)
                    outcome = fetch_topic(topic, store, source)
                with timed(f"incremental rerun, topic '{topic.name}'", lambda: f"({outcome.requests} request)"):  # noqa: B023 (called in this iteration)
                    outcome = fetch_topic(topic, store, source)
            frame = None
            with timed("load frame, all papers", lambda: f"({len(frame)} rows)"):
                frame = load_frame(store, "everything")
            with timed("render digest of 25 newest"):
                render_digest("Everything", store.papers("everything", limit=25))
        rows.append(("store size", f"{Path(settings.db_path).stat().st_size / 1e6:.1f} MB"))
    print("| measurement | result |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


MB = 1e6


def everything_topic(papers: int) -> Topic:
    """A topic of (almost) every paper, its cap above the corpus's size."""
    return Topic(name="Everything", slug="everything", terms=["the", "a", "we"], max_results=2 * papers,
                 since=date(2023, 1, 1))


def fetch_in_this_process(db: str, papers: int) -> dict:
    """One fetch of the topic into the store `db`; this process's peak memory and CPU time."""
    settings = dataclasses.replace(from_env(), db_path=Path(db))
    start = time.perf_counter()
    with Store(settings.db_path) as store:
        outcome = fetch_topic(everything_topic(papers), store, ArxivSource(settings, progress=False))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"papers": outcome.counts.fetched, "requests": outcome.requests, "wall": time.perf_counter() - start,
            "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": peak_rss() / MB}


def peak_rss() -> int:
    """This process's peak resident memory, in bytes. Not getrusage's ru_maxrss: Linux carries that
    over from the parent through fork and exec, so a child of the emulator's process would show
    the emulator's memory; VmHWM is the peak of this program's own address space."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def memory_parts(db: str, papers: int) -> dict:
    """Where a whole window's fetch holds memory (tracemalloc): the peak of parsing one full page,
    every page's papers held as Paper objects, and the peak of saving them in one transaction."""
    settings = from_env()
    topic = everything_topic(papers)
    tracemalloc.start()
    held, page_peak = [], 0
    windows = [Window(datetime.combine(topic.since, datetime.min.time(), UTC), utc_now())]
    while windows:  # split as the fetch splits a window beyond the API's 30,000 results
        window, start = windows.pop(), 0
        search = arxiv.Search(query=build_query(topic, window), sort_by=arxiv.SortCriterion.SubmittedDate,
                              sort_order=arxiv.SortOrder.Descending)
        while True:
            body = requests.get(request_url(settings.api_url, search, start, settings.page_size), timeout=60).content
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            page = parse_page(body)
            page_peak = max(page_peak, tracemalloc.get_traced_memory()[1] - before)
            if page.total > API_MAX_RESULTS_PER_QUERY:
                windows += window.halves()
                break
            held += page.papers
            start += len(page.papers)
            if not page.papers or start >= page.total:
                break
    del body, page
    papers_held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    with Store(db) as store:
        store.save_fetch(topic.slug, held, started_at=utc_now(), requests=0, record=FetchRecord(
            kind="window", matched_terms=topic.terms_matched(held)))
    save_peak = tracemalloc.get_traced_memory()[1] - papers_held
    return {"papers": len(held), "page_mb": page_peak / MB, "papers_mb": papers_held / MB, "save_mb": save_peak / MB}


def in_a_process(mode: str, api_url: str, db: str, papers: int) -> dict:
    child = subprocess.run([sys.executable, __file__, "--child", mode, db, str(papers)], check=True, text=True,
                           stdout=subprocess.PIPE, env={**os.environ, "ARXIV_API_URL": api_url, "ARXIV_DELAY_SECONDS": "0"})
    return json.loads(child.stdout.splitlines()[-1])


def memory(parts: bool) -> None:
    from before_after import large_corpus  # the synthetic 50,000-paper corpus (imports the build: only here)

    corpora = SHARED_DIR / "corpora"
    small = load_jsonl(corpora / "3d-reconstruction-real.jsonl") + load_jsonl(corpora / "daily-mixed-2026-06.jsonl")
    if parts:
        print("| papers | parsing one page (peak) | the papers held | saving them (peak) |\n|---|---|---|---|")
    else:
        print("| topic | fetch | papers | requests | peak memory (RSS) | CPU | wall (load) |\n|---|---|---|---|---|---|---|")
    for records in (small, large_corpus()):
        with tempfile.TemporaryDirectory() as tmp, ArxivEmulator(papers=records, recorded_dir=None) as emu:
            if parts:
                part = in_a_process("parts", emu.url, f"{tmp}/parts.sqlite", len(records))
                print(f"| {part['papers']:,} | {part['page_mb']:.0f} MB | {part['papers_mb']:.0f} MB | "
                      f"{part['save_mb']:.0f} MB |", flush=True)
                continue
            for fetch in ("first", "quiet day"):
                run = in_a_process("fetch", emu.url, f"{tmp}/fetched.sqlite", len(records))
                print(f"| {len(records):,} records | {fetch} | {run['papers']:,} | {run['requests']} | "
                      f"{run['peak_mb']:.0f} MB | {run['cpu']:.1f} s | {run['wall']:.1f} s ({os.getloadavg()[0]:.1f}) |",
                      flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", action="store_true", help="a fetch's memory, 10,319 and 51,595 papers")
    parser.add_argument("--memory-parts", action="store_true", help="where a fetch holding its papers puts its memory")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DB", "PAPERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, db, papers = args.child
        print(json.dumps((fetch_in_this_process if mode == "fetch" else memory_parts)(db, int(papers))))
    elif args.memory or args.memory_parts:
        memory(parts=args.memory_parts)
    else:
        main()
