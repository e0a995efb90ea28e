"""The shipped sample (data/sample/<slug>.atom): real arXiv records that let a first run work offline."""

from __future__ import annotations

from pathlib import Path

from helpers import RESOURCES
from helpers.arxiv_source import parse_feed
from helpers.store import FetchRecord, Store, utc_now
from helpers.topics import Topic

SAMPLE_DIR = RESOURCES / "data" / "sample"


def load_sample(topic: Topic, store: Store, sample_dir: Path = SAMPLE_DIR) -> int:
    """Store the topic's sample papers, if it has a sample file; returns how many were stored."""
    path = sample_dir / f"{topic.slug}.atom"
    if not path.is_file():
        return 0
    papers = parse_feed(path.read_bytes())
    store.save_fetch(topic.slug, papers, started_at=utc_now(), requests=0,
                     record=FetchRecord(kind="sample", matched_terms=topic.terms_matched(papers)))
    return len(papers)
