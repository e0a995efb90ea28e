"""Exports of a large topic: the 10,350 papers of the two corpora (or, with `--copies 5`, the
synthetic 50,000-paper corpus of bench/before_after.py), ranked in the shipped 3D Reconstruction
topic, each export streamed into its file as the build writes it (`write_exports`).

    python bench/exports.py [--copies N]

Prints, per export, its wall and CPU time and its size, then the process's peak memory (frame
included): what a build adds for a topic whose papers changed.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from topic_report import exports  # noqa: E402
from topic_report.frame import papers_frame  # noqa: E402
from topic_report.ranking import ranked  # noqa: E402
from topic_report.topics import load_topics  # noqa: E402

from page_size import ALL_CORPORA, load_corpora  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1, help="the corpora this many times over, ids varied")
    args = parser.parse_args()
    topic = next(t for t in load_topics(ROOT / "topics.yml") if t.slug == "3d-reconstruction")
    once = list({paper.id: paper for paper in load_corpora(ALL_CORPORA)}.values())  # 148 papers are in both
    papers = [dataclasses.replace(paper, id=f"{copy + 2}{paper.id[1:]}") if copy else paper
              for copy in range(args.copies) for paper in once]
    frame = ranked(papers_frame(papers, topic.slug), topic)
    del papers
    print(f"{len(frame):,} papers")
    with tempfile.TemporaryDirectory() as folder:
        for name, export in exports.export_writers(topic, frame, None, None).items():
            started, cpu = time.monotonic(), time.process_time()
            with open(Path(folder) / name, "w", encoding=export.encoding, newline="") as out:
                export.write(out)
            print(f"{name:<16} {time.monotonic() - started:6.2f} s ({time.process_time() - cpu:5.2f} s CPU)"
                  f"  {(Path(folder) / name).stat().st_size / 1e6:6.2f} MB")
    print(f"peak memory of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000:,.0f} MB")


if __name__ == "__main__":
    main()
