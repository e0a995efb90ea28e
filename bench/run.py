"""Benchmarks of the data layer against the loopback emulator serving the real corpora.

Run: `make bench` (or `python bench/run.py`). Prints a markdown table; README quotes it.
The request delay is 0 here: against arXiv add ARXIV_DELAY_SECONDS (3 s) per request.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from topic_report.arxiv.paging import ArxivSource  # noqa: E402
from topic_report.digest import render_digest  # noqa: E402
from topic_report.fetching import fetch_topic  # noqa: E402
from topic_report.frame import load_frame  # noqa: E402
from topic_report.settings import from_env  # noqa: E402
from topic_report.store import Store  # noqa: E402
from topic_report.topics import Topic  # noqa: E402

from arxiv_server import SHARED_DIR, ArxivEmulator, load_jsonl  # noqa: E402

rows: list[tuple[str, str]] = []


@contextmanager
def timed(label: str, detail=lambda: ""):
    start = time.perf_counter()
    yield
    rows.append((label, f"{time.perf_counter() - start:.2f} s {detail()}".strip()))


def main() -> None:
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


if __name__ == "__main__":
    main()
