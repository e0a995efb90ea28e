"""Exports and index data of a large topic: the 10,350 papers of the two corpora (as in
bench/page_size.py) written as Atom, BibTeX, CSV and JSON, and summarized for the index.

    python bench/exports.py

Prints, per export, the time to make it and its size; the build makes them for every topic with a
page on every build (Quarto clears its output directory), so this is what a build adds per topic.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from topic_report import exports  # noqa: E402
from topic_report.frame import papers_frame  # noqa: E402
from topic_report.overview import topic_overview  # noqa: E402
from topic_report.store import Coverage  # noqa: E402
from topic_report.topic_data import TopicData  # noqa: E402

from page_size import TOPIC, load_corpora  # noqa: E402


def timed(what: str, make):
    """Run `make`; print its wall time and its CPU time (which other work on the machine does not inflate)."""
    started, cpu = time.monotonic(), time.process_time()
    result = make()
    print(f"{what:<24} {time.monotonic() - started:6.2f} s ({time.process_time() - cpu:5.2f} s CPU)", end="")
    return result


def main() -> None:
    frame = papers_frame(load_corpora(), TOPIC.slug)
    print(f"{len(frame):,} papers")
    makers = {
        "Atom feed (50 newest)": lambda: exports.atom_feed(TOPIC, frame),
        "BibTeX": lambda: exports.bibtex(frame).encode("utf-8"),
        "CSV": lambda: exports.csv_text(frame).encode("utf-8-sig"),
        "JSON": lambda: exports.json_text(TOPIC, frame).encode("utf-8"),
    }
    for what, make in makers.items():
        content = timed(what, make)
        print(f"  {len(content) / 1e6:6.2f} MB")
    data = TopicData(topic=TOPIC, papers=[], frame=frame, coverage=Coverage(None, None, len(frame), False, None),
                     sample=False, last_run=None, previous_build=None, joined=None, updated=set())
    timed("index overview", lambda: topic_overview(data))
    print()


if __name__ == "__main__":
    main()
