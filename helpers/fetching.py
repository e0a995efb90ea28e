"""Fetch topics into the store: resolve each topic's window, fetch, save atomically, report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from helpers import PROG, TopicReportError
from helpers.arxiv_source import ArxivSource, ArxivUnreachable, Window, default_window
from helpers.store import FetchCounts, FetchRecord, Store, utc_now
from helpers.topics import Topic


@dataclass(frozen=True)
class FetchOutcome:
    topic: Topic
    window: Window
    counts: FetchCounts
    requests: int
    stored: int

    @property
    def nothing_matches(self) -> bool:
        """The topic has no papers at all, even after this fetch: its query likely finds nothing."""
        return self.counts.fetched == 0 and self.stored == 0

    def line(self) -> str:
        c = self.counts
        return (f"{self.topic.name}: {c.fetched} fetched, {c.new} new, {c.updated} updated, "
                f"{self.requests} API request{'s' if self.requests != 1 else ''}")


def resolve_window(topic: Topic, store: Store, since: date | None, until: date | None) -> Window:
    """--since/--until override the topic's window; otherwise fetch incrementally."""
    now = utc_now()
    if since is None and until is None:
        return default_window(topic, store.newest_published(topic.slug), now)
    start = (datetime.combine(since, time.min, timezone.utc) if since
             else default_window(topic, None, now).since)
    end = datetime.combine(until, time(23, 59), timezone.utc) if until else now.replace(second=0, microsecond=0)
    if start > end and since is None:
        raise TopicReportError(f"--until {end:%Y-%m-%d} is before the start of the topic's window, "
                               f"{start:%Y-%m-%d}; give --since too")
    if start > end:
        raise TopicReportError(f"--since {start:%Y-%m-%d} is after {'--until' if until else 'today,'} {end:%Y-%m-%d}")
    return Window(start, end)


def fetch_topic(topic: Topic, store: Store, source: ArxivSource,
                since: date | None = None, until: date | None = None) -> FetchOutcome:
    """Fetch one topic and store it in one transaction; on failure the papers stay as they were."""
    window = resolve_window(topic, store, since, until)
    started, before = utc_now(), source.requests_made
    expect_results = store.count_between(topic.slug, window.since, window.until) > 0
    try:
        papers = source.fetch(topic, window, expect_results=expect_results)
    except TopicReportError as exc:
        used = source.requests_made - before
        store.log_failure(topic.slug, since=window.since, until=window.until, started_at=started,
                          requests=used, error=str(exc))
        raise
    used = source.requests_made - before
    record = FetchRecord(kind="update" if since is None and until is None else "dates",
                         since=window.since, until=window.until, matched_terms=topic.terms_matched(papers))
    counts = store.save_fetch(topic.slug, papers, started_at=started, requests=used, record=record)
    return FetchOutcome(topic, window, counts, used, stored=store.count(topic.slug))


@dataclass(frozen=True)
class FetchSummary:
    failed: list[Topic]  # topics not fetched, for whatever reason
    unreachable: bool    # arXiv could not be reached at all: the remaining topics were not tried
    unmatched: list[Topic]  # fetched, but nothing matches them at all: their query needs a look


def fetch_all(topics: list[Topic], store: Store, source: ArxivSource, since: date | None = None,
              until: date | None = None, unreachable_note: str = "") -> FetchSummary:
    """Fetch each topic, printing one line per topic (errors on stderr); one topic's failure
    does not stop the others, but an unreachable arXiv is said once and ends the fetching."""
    failed: list[Topic] = []
    unmatched: list[Topic] = []
    for index, topic in enumerate(topics):
        try:
            outcome = fetch_topic(topic, store, source, since, until)
        except ArxivUnreachable as exc:
            print(f"{PROG}: {exc}{unreachable_note}", file=sys.stderr, flush=True)
            return FetchSummary(failed + topics[index:], unreachable=True, unmatched=unmatched)
        except TopicReportError as exc:
            failed.append(topic)
            print(f"{PROG}: error: {topic.name}: {exc}", file=sys.stderr, flush=True)
            continue
        print(outcome.line(), flush=True)
        if outcome.nothing_matches:
            unmatched.append(topic)
            print(f"{PROG}: {topic.name}: no paper matches this topic from {outcome.window.since:%Y-%m-%d} "
                  f"to {outcome.window.until:%Y-%m-%d}; check its terms and categories", file=sys.stderr, flush=True)
    return FetchSummary(failed, unreachable=False, unmatched=unmatched)
