"""The shipped sample (data/sample/<slug>.atom): real arXiv records that let a first run work offline."""

from __future__ import annotations

from pathlib import Path

from topic_report import RESOURCES
from topic_report.store import FetchRecord, Store, utc_now
from topic_report.topics import Topic

SAMPLE_DIR = RESOURCES / "data" / "sample"


def load_sample(topic: Topic, store: Store, sample_dir: Path = SAMPLE_DIR) -> int:
    """Store the topic's sample papers, if it has a sample file; returns how many were stored."""
    path = sample_dir / f"{topic.slug}.atom"
    if not path.is_file():
        return 0
    from topic_report.arxiv.feed import parse_feed  # here: a page reads only whether it shows the sample

    papers = parse_feed(path.read_bytes())
    store.save_fetch(topic.slug, papers, started_at=utc_now(), requests=0,
                     record=FetchRecord(kind="sample", matched_terms=topic.terms_matched(papers)))
    return len(papers)


def shows_sample(runs: list[dict]) -> bool:
    """Whether a topic's papers are the shipped sample only: its fetch log (Store.fetch_runs) has a
    sample load and no other successful run. (Stores from before schema 2 logged no kind: a sample
    load is the run that asked arXiv nothing, for no window.)"""
    def is_sample(run: dict) -> bool:
        kind = run.get("kind")
        return kind == "sample" or (kind is None and run["requests"] == 0 and run["since"] is None
                                    and run["until"] is None)
    succeeded = [run for run in runs if run["outcome"] == "ok"]
    return bool(succeeded) and all(map(is_sample, succeeded))
