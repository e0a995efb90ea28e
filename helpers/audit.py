"""The audit: what arXiv announced in a topic's categories is the ground truth its papers are
checked against, every run, and what the store lacks is fetched by id.

A run reads one listing per distinct set of categories (topics sharing a set share it: see
topic_report.arxiv.listing), and, when runs were missed, the days since the last audited one
through OAI-PMH, each category harvested once for the run whichever listings share it. Every
announced paper version that matches a topic must then be in it: one the search sweep did not
bring (held in moderation longer than `lookback_days`, the search index lagging the
announcement) is fetched with `id_list`, however old its submission date. One arXiv
announced but its API does not serve yet stays pending: the announcement is stored, so every
later run asks for it again until it comes. A paper whose announced new version no longer
matches the topic leaves it, with the reason kept for the page. A topic its max_results cut
holds its newest papers only: the audit adds none to it, and counts the announced matching
papers it lacks as beyond its cap, not pending.

A topic with its own `query`, or without categories, cannot be audited: arXiv's listings are
per category, and only arXiv's search can evaluate a query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from topic_report.arxiv.schedule import is_listing_day, listing_day, listing_days, quiet_reason
from topic_report.store import FetchRecord, Paper, Store, utc_now
from topic_report.topics import Topic

if TYPE_CHECKING:  # a build reads the audit without the network layer (topic_report.arxiv.listing, paging)
    from topic_report.arxiv.listing import Announced, Listings
    from topic_report.arxiv.paging import ArxivSource


def unauditable(topic: Topic) -> str | None:
    """Why the topic cannot be audited against arXiv's announcements (None: it can)."""
    if topic.query is not None:
        return ("it has its own query, which only arXiv's search evaluates; "
                "give terms and categories to have it audited")
    if not topic.categories:
        return "it names no categories, and arXiv announces papers per category; add categories to have it audited"
    return None


def listing_key(categories: list[str] | tuple[str, ...]) -> str:
    """The listing of a set of categories, as its URL names it: `cs.CV+cs.GR` (sorted: one listing
    per distinct set, whatever order topics give it in)."""
    return "+".join(sorted(set(categories)))


def audited_listing(topic: Topic) -> str | None:
    """The listing the topic is audited against (None: it cannot be)."""
    return listing_key(topic.categories) if unauditable(topic) is None else None


def audit_start(topic: Topic, today: date) -> date:
    """The first listing day the audit checks for the topic: its window's start."""
    return topic.since if topic.since is not None else today - timedelta(days=topic.window_days)


@dataclass
class TopicAuditRun:
    """What one run's audit did for a topic, for its run line."""

    topic: Topic
    days: list[date] = field(default_factory=list)   # the listing days checked this run
    sources: dict[date, str] = field(default_factory=dict)
    matching: int = 0
    fetched: int = 0                                 # fetched by id this run
    pending: int = 0
    left: list[str] = field(default_factory=list)    # "2606.01234 (its v2 no longer matches)"
    capped: int | None = None                        # its max_results, when a run stopped at it
    beyond_cap: int = 0                              # announced, matching, not in the topic: past the cap

    def line(self) -> str:
        if not self.days:
            span = "no new announcement day to audit"
        else:
            listed = [day for day in self.days if self.sources.get(day) == "listing"]
            harvested = [day for day in self.days if self.sources.get(day) == "oai"]
            parts = []
            if harvested:
                parts.append(f"{_span(harvested)} through OAI-PMH (runs missed)")
            if listed:
                parts.append(f"{_span(listed)} from arXiv's listing")
            span = "audited " + " and ".join(parts)
        papers = "1 announced paper matches" if self.matching == 1 else f"{self.matching} announced papers match"
        if self.capped is not None:
            return (f"{self.topic.name}: {span}; {papers} in its window, {beyond_the_cap(self.beyond_cap, self.capped)}: "
                    f"the audit fetches none past it; raise max_results to have them fetched")
        text = f"{self.topic.name}: {span}; {papers} in its window, {self.fetched} fetched by id, {self.pending} pending"
        if self.left:
            text += "; left the topic: " + ", ".join(self.left)
        return text


def beyond_the_cap(papers: int, cap: int) -> str:
    """How the run line and the page say the announced matching papers a capped topic lacks: not
    pending (arXiv serves them), but past the newest `cap` papers its max_results keeps."""
    return f"{papers:,} beyond the cap of {cap:,} (max_results)"


def _span(days: list[date]) -> str:
    return f"{days[0]:%Y-%m-%d}" if len(days) == 1 else f"{len(days)} days, {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}"


@dataclass
class AuditRun:
    topics: list[TopicAuditRun]
    requests: int


def _missed(store: Store, key: str, first: date, today: date) -> list[date]:
    """The listing days of a listing no run audited, from the day after the last audited one (not
    before `first`) to yesterday; none before its first audit (nothing to catch up on)."""
    known = store.audited_days(key)
    if not known:
        return []
    return [day for day in listing_days(max(max(known) + timedelta(days=1), first), today - timedelta(days=1))
            if day not in known]


def _harvest_spans(missed: dict[str, list[date]]) -> dict[str, tuple[date, date]]:
    """Per category, the days its OAI-PMH harvest must span: from the first to the last day any
    listing of it missed, so that listings sharing a category share one harvest."""
    spans: dict[str, tuple[date, date]] = {}
    for key, days in missed.items():
        for category in key.split("+") if days else ():
            first, last = spans.get(category, (days[0], days[-1]))
            spans[category] = (min(first, days[0]), max(last, days[-1]))
    return spans


def _collect(store: Store, listings: Listings, key: str, missed: list[date],
             harvested: dict[str, list[Announced]]) -> dict[date, str]:
    """Brings the store's announcements of a listing up to date: the days it missed from this run's
    OAI-PMH harvests, then today's listing. Returns the days this run audited and their source."""
    from topic_report.arxiv.listing import announced_in

    audited: dict[date, str] = {}
    if missed:
        items = announced_in(harvested, key.split("+"), missed)
        store.save_announcements(key, {day: [a for a in items if a.day == day] for day in missed}, "oai")
        audited |= dict.fromkeys(missed, "oai")
    day, items = listings.today(key)
    if day is not None and (items or is_listing_day(day)):  # an empty weekend or holiday feed audits nothing
        store.save_announcements(key, {day: items}, "listing")
        audited[day] = "listing"
    return dict(sorted(audited.items()))


def _wanted(topic: Topic, store: Store, since: date, until: date) -> dict[str, int]:
    """The papers the audit must bring into the topic or re-check, per id the version announced:
    those announced matching it that it lacks (or holds at an older version), and its papers
    whose announced new version no longer matches."""
    audited = store.audited_days(listing_key(topic.categories))
    held = store.versions(topic.slug)
    wanted: dict[str, int] = {}
    for row in store.announcements(since, until):
        if date.fromisoformat(row["day"]) not in audited:
            continue
        paper_id, version = row["paper_id"], row["version"]
        matches = topic.matches(row["title"], row["abstract"], json.loads(row["categories"]))
        if held.get(paper_id, 0) < version and (matches or paper_id in held):
            wanted[paper_id] = max(version, wanted.get(paper_id, 0))
    return wanted


def audit(topics: list[Topic], store: Store, source: ArxivSource, now: datetime | None = None) -> AuditRun:
    """Audit the topics that can be (see the module's docstring); one run line each."""
    from topic_report.arxiv.listing import Listings  # the network layer, for a run that audits

    now = now or utc_now()
    before = source.requests_made
    today = listing_day(now)
    listings = Listings(source)
    auditable = [topic for topic in topics if unauditable(topic) is None]
    runs = {topic.slug: TopicAuditRun(topic) for topic in auditable}
    sharing = {key: [topic for topic in auditable if listing_key(topic.categories) == key]
               for key in dict.fromkeys(listing_key(topic.categories) for topic in auditable)}
    missed = {key: _missed(store, key, min(audit_start(topic, today) for topic in members), today)
              for key, members in sharing.items()}
    harvested = listings.harvest(_harvest_spans(missed))
    for key, members in sharing.items():
        days = _collect(store, listings, key, missed[key], harvested)
        for topic in members:
            runs[topic.slug].days, runs[topic.slug].sources = list(days), days
    # A topic its max_results cut holds the newest papers only: the audit must not add past the cap.
    capped = {topic.slug: cap for topic in auditable if (cap := capped_at(topic, store)) is not None}
    wanted = {topic.slug: _wanted(topic, store, audit_start(topic, today), today)
              for topic in auditable if topic.slug not in capped}
    wanted.update(dict.fromkeys(capped, {}))
    stored = {paper.id: paper for paper in store.papers_by_id(sorted({i for ids in wanted.values() for i in ids}))}
    # What the store holds at the announced version needs no request (another topic brought it).
    ids = sorted({i for ids in wanted.values() for i, version in ids.items()
                  if i not in stored or stored[i].version < version})
    served = {paper.id: paper for paper in source.by_id(ids).papers} if ids else {}
    for topic in auditable:
        if topic.slug in capped:
            audited = [day for day in day_audits(topic, store, now) if day.audited]
            runs[topic.slug].capped = capped[topic.slug]
            runs[topic.slug].matching = sum(day.matching for day in audited)
            runs[topic.slug].beyond_cap = len({paper_id for day in audited for paper_id in day.beyond_cap})
        else:
            _settle(topic, store, runs[topic.slug], wanted[topic.slug], stored | served, set(served), now)
    return AuditRun(list(runs.values()), source.requests_made - before)


def _settle(topic: Topic, store: Store, run: TopicAuditRun, wanted: dict[str, int], available: dict[str, Paper],
            fetched: set[str], now: datetime) -> None:
    """Stores the topic's wanted papers that are available (stored for another topic, or `fetched`
    by id this run): those matching join it, those whose new version no longer matches leave it;
    what arXiv does not serve yet stays pending."""
    arrived = [available[i] for i, version in wanted.items() if i in available and available[i].version >= version]
    joining = [p for p in arrived if topic.matches(p.title, p.abstract, p.categories)]
    held = store.versions(topic.slug)
    leaving = [p for p in arrived if p not in joining and p.id in held]
    if joining or leaving:
        store.save_fetch(topic.slug, joining + leaving, started_at=utc_now(), requests=0,
                         record=FetchRecord(kind="audit", matched_terms=topic.terms_matched(joining)))
    if leaving:
        store.leave(topic.slug, {p.id: f"its v{p.version} no longer matches the topic" for p in leaving})
    run.fetched = sum(1 for p in joining if p.id in fetched)
    run.left = [f"{p.id} (its v{p.version} no longer matches)" for p in leaving]
    run.pending = len(wanted) - len(arrived)
    run.matching = sum(day.matching for day in day_audits(topic, store, now) if day.audited)


@dataclass(frozen=True)
class DayAudit:
    """One listing day of a topic's window, as its page shows it."""

    day: date
    reason: str | None = None      # why arXiv announced nothing (weekend, holiday)
    audited: str | None = None     # listing or oai: where the store's copy of the day came from
    announced: int = 0             # papers announced in the topic's categories
    matching: int = 0              # of them, matching the topic
    stored: int = 0                # of those, in the topic at the announced version or newer
    pending: tuple[str, ...] = ()  # ids announced, matching, not served by arXiv's API yet
    left: int = 0                  # their newer version no longer matches: left the topic
    beyond_cap: tuple[str, ...] = ()  # a capped topic's: ids announced, matching, not in it (not pending)


def capped_at(topic: Topic, store: Store) -> int | None:
    """The max_results a run of the topic stopped at, while no run fetched its whole window since
    (None: not capped)."""
    state = store.topic_state(topic.slug)
    return state.capped_at if state is not None else None


def day_audits(topic: Topic, store: Store, now: datetime) -> list[DayAudit]:
    """Every day of the topic's window, newest first: what arXiv announced in its categories,
    what matched the topic, what the topic holds and what is pending (for a capped topic: beyond
    its cap, as the audit adds nothing to it)."""
    today = listing_day(now)
    capped = capped_at(topic, store) is not None
    first = audit_start(topic, today)
    audited = store.audited_days(listing_key(topic.categories))
    held, departed = store.versions(topic.slug), store.departures(topic.slug)
    per_day: dict[date, dict[str, tuple[int, bool]]] = {}
    for row in store.announcements(first, today):
        if set(json.loads(row["categories"])) & set(topic.categories):
            matching = topic.matches(row["title"], row["abstract"], json.loads(row["categories"]))
            papers = per_day.setdefault(date.fromisoformat(row["day"]), {})
            version, was = papers.get(row["paper_id"], (0, False))
            papers[row["paper_id"]] = (max(version, row["version"]), was or matching)
    days = []
    for offset in range((today - first).days + 1):
        day = today - timedelta(days=offset)
        if day not in audited:
            days.append(DayAudit(day, reason=quiet_reason(day)))
            continue
        papers = per_day.get(day, {})
        matching = {paper_id: version for paper_id, (version, match) in papers.items() if match}
        stored = sum(1 for paper_id, version in matching.items() if held.get(paper_id, 0) >= version)
        left = sum(1 for paper_id in matching if paper_id not in held and paper_id in departed)
        missing = tuple(sorted(paper_id for paper_id, version in matching.items()
                               if held.get(paper_id, 0) < version and paper_id not in departed))
        days.append(DayAudit(day, quiet_reason(day), audited[day], len(papers), len(matching), stored,
                             () if capped else missing, left, missing if capped else ()))
    return days


@dataclass(frozen=True)
class TopicAudit:
    """A topic's audit, for its page: each day of its window, or why it cannot be audited."""

    days: list[DayAudit]
    unauditable: str | None
    listing: str | None
    cap: int | None = None  # the max_results that cut the topic (None: not capped)

    @classmethod
    def load(cls, topic: Topic, store: Store, now: datetime) -> TopicAudit:
        reason = unauditable(topic)
        return cls([] if reason else day_audits(topic, store, now), reason, audited_listing(topic),
                   capped_at(topic, store))

    @property
    def audited(self) -> list[DayAudit]:
        return [day for day in self.days if day.audited]

    @property
    def pending(self) -> list[str]:
        """The ids arXiv announced matching the topic that its API does not serve yet."""
        return sorted({paper_id for day in self.audited for paper_id in day.pending})

    @property
    def beyond_cap(self) -> list[str]:
        """The ids announced matching the capped topic that it does not hold: past its cap, not pending."""
        return sorted({paper_id for day in self.audited for paper_id in day.beyond_cap})

