"""Page weight of a large topic: store ~10,000 real papers under one topic, build its page offline,
and print the size of the page (and how long the build took).

    python bench/page_size.py [--keep DIR]

The papers are the two corpora of ../shared/corpora (June 2026 daily listings and 3D
reconstruction, 2023-2026), stored directly into a fresh store; the page must stay under 5 MB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.build import build  # noqa: E402
from helpers.settings import Settings  # noqa: E402
from helpers.store import Paper, Store, utc_now  # noqa: E402
from helpers.topics import Topic  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
CORPUS_FILES = ("daily-mixed-2026-06.jsonl", "3d-reconstruction-real.jsonl")
TOPIC = Topic(name="Benchmark: ten thousand papers", slug="benchmark", terms=["anything"])
LIMIT_BYTES = 5_000_000


def paper_from_record(record: dict) -> Paper:
    """A corpus record (schema: ../shared/corpora/README.md) as a stored paper."""
    return Paper(
        id=record["id"], version=record["version"], title=record["title"], abstract=record["abstract"],
        authors=record["authors"], published=datetime.fromisoformat(record["published"]),
        updated=datetime.fromisoformat(record["updated"]), primary_category=record["primary_category"],
        categories=record["categories"], comment=record.get("comment"),
    )


def load_corpora() -> list[Paper]:
    papers = []
    for name in CORPUS_FILES:
        with open(CORPORA / name, encoding="utf-8") as lines:
            papers.extend(paper_from_record(json.loads(line)) for line in lines)
    return papers


def measure(work: Path) -> int:
    settings = Settings(db_path=work / "papers.sqlite")
    with Store(settings.db_path) as store:
        counts = store.save_fetch(TOPIC.slug, load_corpora(), since=None, until=None, started_at=utc_now(),
                                  requests=0)
    print(f"stored {counts.new:,} papers under {TOPIC.name!r}")
    started = time.monotonic()
    code = build([TOPIC], settings, work / "_site", work_dir=work / "build", offline=True)
    seconds = time.monotonic() - started
    if code:
        raise SystemExit(f"build failed (exit {code})")
    size = (work / "_site" / f"{TOPIC.slug}.html").stat().st_size
    print(f"build (execute + render): {seconds:.1f} s")
    print(f"page size: {size:,} bytes ({size / 1e6:.2f} MB; limit {LIMIT_BYTES / 1e6:.0f} MB)")
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR and keep it (default: a temporary dir)")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        size = measure(args.keep)
    else:
        with tempfile.TemporaryDirectory() as work:
            size = measure(Path(work))
    raise SystemExit(0 if size < LIMIT_BYTES else 1)


if __name__ == "__main__":
    main()
