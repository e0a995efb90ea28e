"""One topic's data, loaded once from the store by this module: its papers and their frame, its
coverage, which papers are new or updated since the previous build, whether it shows the shipped
sample, its arXiv query, and its audit against arXiv's announcements. The page (the notebook, through helpers/report.py), the index card,
the digest and the exports are all made from it, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from topic_report.arxiv.query import build_query
from topic_report.audit import TopicAudit
from topic_report.frame import papers_frame
from topic_report.ranking import ranked
from topic_report.sample import shows_sample
from topic_report.store import Coverage, Paper, Store, utc_now
from topic_report.topics import Topic


def ranked_papers(store: Store, topic: Topic, papers: list[Paper]) -> pd.DataFrame:
    """Papers of the topic as its page ranks them (the page's frame, the mail's list): with what each
    matched and changed, scored against the topic's examples and its pinned authors' claims."""
    return ranked(papers_frame(papers, topic.slug, store.matched_terms(topic.slug), store.revisions(topic.slug)),
                  topic, store.papers_by_id(topic.like), store.claims([author.pin for author in topic.authors if author.pin]))


@dataclass(frozen=True)
class TopicData:
    topic: Topic
    papers: list[Paper]            # newest first (Store.papers), within since/until
    frame: pd.DataFrame            # the same papers (topic_report.frame's schema), with score and why (ranking)
    coverage: Coverage             # the topic's last fetch of its window, and what it holds
    sample: bool                   # its papers are the shipped sample only: never fetched from arXiv
    last_run: datetime | None      # its last successful fetch of any kind (window or chosen dates)
    previous_build: datetime | None
    joined: set[str] | None        # ids of papers new since the previous build (None: no previous build)
    updated: set[str]              # ids of papers with a new version since the previous build
    audit: TopicAudit              # each day of its window against arXiv's announcements (helpers/audit.py)
    since: date | None = None
    until: date | None = None

    @classmethod
    def load(cls, store: Store, topic: Topic, *, previous_build: datetime | None = None,
             since: date | None = None, until: date | None = None) -> TopicData:
        papers = store.papers(topic.slug, since, until)
        runs = [run for run in store.fetch_runs(topic.slug) if run["outcome"] == "ok"]
        sample = shows_sample(runs)
        return cls(
            topic=topic, papers=papers,
            frame=ranked_papers(store, topic, papers),
            coverage=store.coverage(topic.slug), sample=sample,
            last_run=None if sample or not runs else datetime.fromisoformat(runs[-1]["finished_at"]),
            previous_build=previous_build,
            joined=store.joined_since(topic.slug, previous_build) if previous_build else None,
            updated=store.updated_since(topic.slug, previous_build) if previous_build else set(),
            audit=TopicAudit.load(topic, store, utc_now()),
            since=since, until=until)

    @property
    def empty(self) -> bool:
        return not self.papers

    @property
    def query(self) -> str:
        """The arXiv query the topic's fetches send."""
        return build_query(self.topic)
