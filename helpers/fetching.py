"""Fetch topics into the store: decide what each run asks arXiv for, save atomically, report.

A run without dates asks for one of two things:

- the topic's **whole window** (submitted since `since`, or `window_days` back, and since the
  oldest date it covered before) when the store knows nothing of it yet, when its definition
  changed (terms, exclude, categories, query, since, window_days), when a raised max_results can
  bring what an earlier run left out, or when the clock is before the last run's. The topic then
  holds exactly what arXiv answered: papers that no longer match leave the topic (not the store).
- otherwise its **changes**: the topic's query over its window, sorted by last update, paged
  until it passes the last run less `lookback_days`. That finds papers announced late (up to
  `lookback_days` after their submission) and new versions of any paper, however old. It stops
  sooner when arXiv's count of the window's papers shows that none was announced late: once past
  what the last run could see, every paper it reports is stored or was read. Its first page asks
  for the changes expected (the window's papers per day over the days since the last run, twice
  over), a full page after that: a quiet day is one small request. Paper dates never move the window: the runs'
  own clock does, and the window never ends after now.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from topic_report import PROG, TopicReportError
from topic_report.arxiv.authors import pinned_papers
from topic_report.arxiv.paging import ArxivSource, ArxivUnreachable, Fetched, NothingWhereExpected, SweepTooLong
from topic_report.arxiv.query import Window, build_query
from topic_report.arxiv.schedule import nothing_announced_reason, settled_before
from topic_report.audit import audit, unauditable
from topic_report.sample import shows_sample
from topic_report.store import NO_LONGER_MATCHES, Coverage, FetchCounts, FetchRecord, Paper, Store, TopicState, utc_now
from topic_report.topics import ARXIV_FIRST_DAY, Topic

# The smallest first page of a sweep of changes: a topic with few papers a day still reads past
# what its last run saw in one request.
MIN_FIRST_PAGE = 20


@dataclass(frozen=True)
class FetchOutcome:
    topic: Topic
    window: Window
    kind: str                 # window, update or dates
    counts: FetchCounts
    requests: int
    stored: int
    fetched: Fetched
    notes: tuple[str, ...] = ()  # what the line says besides the counts

    @property
    def nothing_matches(self) -> bool:
        """The topic has no papers at all, even after this fetch: its query likely finds nothing."""
        return self.counts.fetched == 0 and self.stored == 0

    def line(self) -> str:
        c = self.counts
        text = (f"{self.topic.name}: {c.fetched} fetched, {c.new} new, {c.updated} updated, "
                f"{self.requests} API request{'s' if self.requests != 1 else ''}")
        if c.removed:
            text += f", {c.removed} no longer match{'es' if c.removed == 1 else ''}"
        return "; ".join([text, *self.notes, self._coverage()])

    def _coverage(self) -> str:
        reported, cap = self.fetched.reported, self.topic.max_results
        if self.fetched.capped and self.kind == "update":
            return f"stopped at max_results ({cap}): raise it to fetch the rest"
        if self.kind == "dates":
            span = f"from {self.window.since:%Y-%m-%d} to {self.window.until:%Y-%m-%d}"
            if self.fetched.capped:
                return f"newest {self.counts.fetched} of {reported} matched {span} (max_results {cap})"
            return f"arXiv reports {reported} {span}"
        return Coverage(None, reported, self.stored, self.fetched.capped, self.window.since).sentence(cap)


def first_page_size(held: int, window: Window, last_run: datetime, page_size: int) -> int:
    """The entries a sweep of changes asks for first: the window's papers per day over the days
    since the last run and the day before it (what `settled_before` leaves to read again), twice
    over, at least MIN_FIRST_PAGE, at most a page."""
    per_day = held / max((window.until - window.since) / timedelta(days=1), 1)
    days = (window.until - last_run) / timedelta(days=1) + 1
    return max(MIN_FIRST_PAGE, min(page_size, math.ceil(2 * per_day * days)))


def _start_of_window(topic: Topic, now: datetime) -> datetime:
    if topic.since is not None:
        return datetime.combine(topic.since, time.min, UTC)
    return (now - timedelta(days=topic.window_days)).replace(hour=0, minute=0)


def _manual_window(topic: Topic, since: date | None, until: date | None, now: datetime) -> Window:
    start = datetime.combine(since, time.min, UTC) if since else _start_of_window(topic, now)
    end = datetime.combine(until, time(23, 59), UTC) if until else now
    if start > end and since is None:
        raise TopicReportError(f"--until {end:%Y-%m-%d} is before the start of the topic's window, "
                               f"{start:%Y-%m-%d}; give --since too")
    if start > end:
        raise TopicReportError(f"--since {start:%Y-%m-%d} is after {'--until' if until else 'today,'} {end:%Y-%m-%d}")
    return Window(start, end)


def _topic_window(topic: Topic, store: Store, state: TopicState | None, now: datetime, sample: bool) -> Window:
    """The span a topic covers: from its `since`, or `window_days` back and as far back as it
    covered before or holds fetched papers (an edit does not drop its history; the shipped sample
    is no history), up to now."""
    start = _start_of_window(topic, now)
    if topic.since is None and not sample:
        earlier = state.covered_since if state is not None else store.oldest_published(topic.slug)
        start = min(start, earlier or start)
    return Window(start, now)


def match_topics(topics: list[Topic], store: Store) -> dict[str, str]:
    """Match the topics of the whole file to the topics the store knows, before anything is
    fetched, so that renames, swaps and edits keep each topic's papers, run log and backfill.
    A stored topic belongs to the file's topic of its name; else to the one of its definition;
    else to the one of its slug (a name and terms edited at once); else, if the store never
    recorded its name and definition (a store of schema 1 upgraded, its topics not fetched
    since), to the only topic that matches all of its papers. Stored topics are then moved to
    their topic's slug (two steps, so that slugs can swap); one left on a slug another topic
    takes is put aside under `<slug>~<n>`, never deleted. Returns a note per topic that moved."""
    states = {state.topic: state for state in store.topic_states()}
    stored = sorted(store.topic_slugs() | set(states))
    claims: dict[str, str] = {}  # file slug -> the stored slug it continues
    rules = (lambda topic, slug: slug in states and states[slug].name.lower() == topic.name.lower(),
             lambda topic, slug: slug in states and states[slug].definition == topic.definition,
             lambda topic, slug: slug == topic.slug)
    for rule in rules:
        for topic in topics:
            taken = set(claims.values())
            found = [slug for slug in stored if slug not in taken and rule(topic, slug)]
            if topic.slug not in claims and len(found) == 1:
                claims[topic.slug] = found[0]
    for slug in (slug for slug in stored if slug not in states and slug not in claims.values()):
        unclaimed = [topic for topic in topics if topic.slug not in claims]
        papers = store.papers(slug) if unclaimed else []
        fits = [topic for topic in unclaimed if papers
                and all(topic.matches(p.title, p.abstract, p.categories) for p in papers)]
        if len(fits) == 1:
            claims[fits[0].slug] = slug
    moves = {old: slug for slug, old in claims.items() if old != slug}
    aside = [slug for slug in stored if slug not in claims.values() and slug in moves.values()]
    store.move_topics({**moves, **{slug: _free_slug(store, slug) for slug in aside}})
    return {topic.slug: _moved(topic, old, states.get(old)) for topic in topics
            if (old := claims.get(topic.slug)) is not None
            and (old != topic.slug or (old in states and states[old].name.lower() != topic.name.lower()))}


def _moved(topic: Topic, old: str, state: TopicState | None) -> str:
    """The run line's note for a topic that continues the stored topic `old`."""
    if state is None:
        how = f"slug renamed from {old!r} (all its stored papers match this topic)"
    elif state.name.lower() == topic.name.lower():
        how = f"slug renamed from {old!r}"
    else:
        how = f"renamed from {state.name!r} (slug {old!r})"
    return how + ": its papers and history kept"


def _free_slug(store: Store, slug: str) -> str:
    taken = store.topic_slugs()
    return next(f"{slug}~{n}" for n in range(1, len(taken) + 2) if f"{slug}~{n}" not in taken)


def _whole_window_reason(topic: Topic, state: TopicState | None, now: datetime) -> str | None:
    """Why this run must fetch the topic's whole window, or None when its changes suffice."""
    if state is None:
        return "first fetch of its window"
    if state.definition != topic.definition:
        return "its definition changed: fetched its whole window again"
    if state.capped_at is not None and topic.max_results > state.capped_at:
        return "max_results raised: fetched its whole window again"
    if state.swept_until > now:
        return f"the clock is before the last run's ({state.swept_until:%Y-%m-%d %H:%M} UTC): fetched its whole window"
    return None


def _expected(topic: Topic, store: Store, window: Window, same_definition: bool) -> bool:
    """Whether arXiv must have papers for this query: the store holds some of its window that
    match the topic (then an empty answer is arXiv's glitch, asked again, not a fact)."""
    if topic.query is not None:  # a changed query may rightly match nothing we know
        return same_definition and store.count_between(topic.slug, window.since, window.until) > 0
    # By the stored text, not the membership: a paper whose new version no longer matches must
    # not make an empty answer look like a glitch, run after run.
    return any(topic.matches(p.title, p.abstract, p.categories)
               for p in store.each_paper(topic.slug, window.since.date(), window.until.date()))


def fetch_topic(topic: Topic, store: Store, source: ArxivSource, since: date | None = None,
                until: date | None = None, now: datetime | None = None,
                matched: dict[str, str] | None = None) -> FetchOutcome:
    """Fetch one topic and store it in one transaction; on failure the papers stay as they were.
    Each page's papers wait in the store's temporary space (Store.arrivals), not in memory, so a
    fetch's memory does not grow with the topic's papers. `matched`: the notes of match_topics
    over the whole file (else the topic is matched alone)."""
    now = (now or utc_now()).astimezone(UTC).replace(second=0, microsecond=0)
    started, before = utc_now(), source.requests_made
    matched = match_topics([topic], store) if matched is None else matched
    notes = [note] if (note := matched.get(topic.slug)) else []
    notes += [f"exclude {phrase!r} rules out every paper of the term {term!r}"
              for term, phrase in topic.excluded_terms.items()]
    state = store.topic_state(topic.slug)
    same_definition = state is not None and state.definition == topic.definition
    sample = shows_sample(store.fetch_runs(topic.slug))
    if since is not None or until is not None:
        kind, window = "dates", _manual_window(topic, since, until, now)
    else:
        reason = _whole_window_reason(topic, state, now)
        kind, window = ("window" if reason else "update"), _topic_window(topic, store, state, now, sample)
        if reason and state is not None:
            notes.append(reason)
    with store.arrivals() as arrivals:
        def keep(papers: list[Paper]) -> None:
            arrivals.add(papers, topic.terms_matched(papers))

        def ask() -> Fetched:
            nonlocal kind
            arrivals.clear()  # what an answer that failed brought is not this fetch's
            if kind == "update":
                try:
                    held = store.ids_between(topic.slug, window.since, window.until)
                    return source.changes(
                        topic, window, keep, changed_since=state.swept_until - timedelta(days=topic.lookback_days),
                        settled=settled_before(state.swept_until), held=held,
                        first_page=first_page_size(len(held), window, state.swept_until, source.settings.page_size))
                except SweepTooLong as exc:
                    notes.append(f"{exc}: fetched its whole window")
                    kind = "window"
                    arrivals.clear()
            return source.fetch(topic, window, keep, expect_results=_expected(topic, store, window, same_definition))

        try:
            try:
                fetched = ask()
            except NothingWhereExpected:
                if not (gone := _no_longer_found(topic, store, source, window)):
                    raise
                # The papers that made an empty answer look like arXiv's glitch are gone from its search
                # (a new version that no longer matches, a withdrawal): they leave, and the answer stands.
                store.save_fetch(topic.slug, gone, started_at=started, requests=0, record=FetchRecord(kind="recheck"))
                store.leave(topic.slug, dict.fromkeys((paper.id for paper in gone), NO_LONGER_FOUND))
                notes.append(f"{len(gone)} left the topic: arXiv's search no longer finds "
                             f"{'it' if len(gone) == 1 else 'them'} ({', '.join(sorted(p.id for p in gone))})")
                fetched = ask()
            pinned, claims = pinned_papers(source, topic, window, fetched, arrivals)
            fetched.take(pinned)
            for pin, paper_ids in claims.items():
                store.keep_claims(pin, paper_ids)
            stored_examples = {paper.id for paper in store.papers_by_id(topic.like)}
            if missing := [paper_id for paper_id in topic.like if paper_id not in stored_examples]:
                examples = source.by_id(missing)
                fetched.requests += examples.requests
                store.keep_papers(examples.papers)
        except TopicReportError as exc:
            store.log_failure(topic.slug, since=window.since, until=window.until, started_at=started,
                              requests=source.requests_made - before, error=str(exc), kind=kind)
            raise
        record = _record(topic, kind, window, fetched, arrivals.oldest_published(), state, now, sample)
        counts = store.save_fetch(topic.slug, arrivals, started_at=started,
                                  requests=source.requests_made - before, record=record)
    if kind == "window" and fetched.capped and topic.query is None:
        # The cap kept the answer from reaching back to older papers: those the definition no
        # longer matches leave too, so that a narrowed capped topic holds exactly what matches.
        older = store.each_paper(topic.slug, until=record.members_from.date())
        store.leave(topic.slug, {p.id: NO_LONGER_MATCHES for p in older
                                 if not topic.matches(p.title, p.abstract, p.categories)})
    if counts.new == 0 and kind == "update" and (quiet := nothing_announced_reason(state.swept_until, now)):
        notes.append(quiet)
    return FetchOutcome(topic, window, kind, counts, source.requests_made - before, store.count(topic.slug),
                        fetched, tuple(notes))


NO_LONGER_FOUND = "arXiv's search no longer finds it (a new version that no longer matches?)"


def _no_longer_found(topic: Topic, store: Store, source: ArxivSource, window: Window) -> list[Paper]:
    """The topic's stored papers of the window as arXiv serves them now, when its search finds
    none of them any more (asked by id, with the topic's query); else nothing."""
    ids = [paper.id for paper in store.each_paper(topic.slug, window.since.date(), window.until.date())]
    if not ids:
        return []
    try:
        if source.by_id(ids, build_query(topic, window)).papers:
            return []
        return source.by_id(ids).papers
    except TopicReportError:
        return []  # arXiv failing again says nothing about the papers: the first error stands


def _record(topic: Topic, kind: str, window: Window, fetched: Fetched, oldest: datetime | None,
            state: TopicState | None, now: datetime, sample: bool) -> FetchRecord:
    """How the run is stored: its log, the membership it settles and the topic's coverage after it.
    `oldest`: when the oldest paper it brought was submitted."""
    members_from = new_state = None
    if kind == "window":
        # The topic holds exactly what arXiv answered: from its fixed `since` on, all of it; else from
        # the window's start. When the cap cut the answer, from the oldest paper it brought.
        # The shipped sample's papers are no fetched history: the first fetch replaces them all.
        members_from = (datetime.combine(ARXIV_FIRST_DAY, time.min, UTC)
                        if topic.since is not None or sample else window.since)
        if fetched.capped:
            members_from = oldest or window.since
        new_state = TopicState(topic.slug, topic.name, topic.definition, window.since, now,
                               topic.max_results if fetched.capped else None)
    elif kind == "update":
        new_state = TopicState(topic.slug, topic.name, topic.definition, state.covered_since, now,
                               topic.max_results if fetched.capped else state.capped_at)
    elif state is not None and state.definition == topic.definition and window.since < state.covered_since:
        # A by-hand backfill before the covered span extends it, so a later edit re-checks it too.
        new_state = TopicState(topic.slug, topic.name, topic.definition, window.since, state.swept_until,
                               state.capped_at)
    return FetchRecord(kind=kind, since=window.since, until=window.until, requests=fetched.requests,
                       reported=fetched.reported, capped=fetched.capped, members_from=members_from,
                       state=new_state)


@dataclass(frozen=True)
class FetchSummary:
    failed: list[Topic]  # topics not fetched, for whatever reason
    unreachable: bool    # arXiv could not be reached at all: the remaining topics were not tried
    unmatched: list[Topic]  # fetched, but nothing matches them at all: their query needs a look


def fetch_all(topics: list[Topic], store: Store, source: ArxivSource, since: date | None = None,
              until: date | None = None, unreachable_note: str = "", now: datetime | None = None,
              everything: list[Topic] | None = None) -> FetchSummary:
    """Fetch each topic, printing one line per topic (errors on stderr); one topic's failure
    does not stop the others, but an unreachable arXiv is said once and ends the fetching. The
    store's topics are first matched to `everything` (the whole topics file; default `topics`).
    A run without dates then audits the topics against arXiv's announcements (topic_report.audit)."""
    failed: list[Topic] = []
    unmatched: list[Topic] = []
    matched = match_topics(everything or topics, store)
    for index, topic in enumerate(topics):
        try:
            outcome = fetch_topic(topic, store, source, since, until, now, matched)
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
            what = "query" if topic.query is not None else "terms and categories"
            print(f"{PROG}: {topic.name}: no paper matches this topic from {outcome.window.since:%Y-%m-%d} "
                  f"to {outcome.window.until:%Y-%m-%d}; check its {what}", file=sys.stderr, flush=True)
    if since is None and until is None:
        return _audit_all([t for t in topics if t not in failed], store, source, failed, unmatched,
                          unreachable_note, now)
    return FetchSummary(failed, unreachable=False, unmatched=unmatched)


def _audit_all(topics: list[Topic], store: Store, source: ArxivSource, failed: list[Topic], unmatched: list[Topic],
               unreachable_note: str, now: datetime | None) -> FetchSummary:
    """The run's audit against arXiv's announcements (topic_report.audit), one line per topic; a
    failure is said in one line and fails the audited topics, their stored papers untouched."""
    for topic in topics:
        if reason := unauditable(topic):
            print(f"{topic.name}: not audited against arXiv's announcements: {reason}", flush=True)
    try:
        run = audit(topics, store, source, now)
    except TopicReportError as exc:
        note = unreachable_note if isinstance(exc, ArxivUnreachable) else ""
        print(f"{PROG}: error: audit against arXiv's announcements: {exc}{note}", file=sys.stderr, flush=True)
        return FetchSummary(failed + [t for t in topics if unauditable(t) is None],
                            unreachable=isinstance(exc, ArxivUnreachable), unmatched=unmatched)
    for topic_run in run.topics:
        print(topic_run.line(), flush=True)
    if run.topics:
        print(f"Audit: {run.requests} request{'s' if run.requests != 1 else ''} to arXiv (listings, OAI-PMH, id_list)",
              flush=True)
    return FetchSummary(failed, unreachable=False, unmatched=unmatched)
