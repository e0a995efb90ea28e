"""A simulated month of daily runs: do the papers stored equal the papers announced, and do the
requests stay at the floor?

The loopback emulator serves both real corpora (10,498 papers) the way arXiv's index shows them:
each paper becomes visible at the announcement after its submission (20:00 New York time, Sunday
to Thursday, for submissions before 14:00), some are held in moderation for 1 to 6 more days, and
new versions of papers, old ones included, appear during the month. Three topics of topics.yml are
given `since: 2023-01-01` and fetched every day of June 2026 at 06:00 UTC: the first run fetches
the whole window, the others its changes.

At the end, each topic must hold exactly the papers arXiv shows for it over its window, each at
its newest version. The floor of a run: one request, or, for a sweep of changes, ⌈(papers changed
since the last run less lookback_days, plus the one that shows the sweep has passed it) / page
size⌉; for the whole window ⌈matches / page size⌉. Run with page sizes 2000 (arXiv's) and 50.

Run: `python bench/month.py` (part of `make bench`). Prints a markdown table; README quotes it.
"""

from __future__ import annotations

import math
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from arxiv_server import SHARED_DIR, ArxivEmulator, load_jsonl  # noqa: E402
from topic_report.arxiv.paging import ArxivSource  # noqa: E402
from topic_report.arxiv.query import Window, build_query  # noqa: E402
from topic_report.fetching import ANNOUNCEMENT_DAYS, ANNOUNCEMENT_TIME, ARXIV_TIME, fetch_topic  # noqa: E402
from topic_report.settings import Settings  # noqa: E402
from topic_report.store import Store  # noqa: E402
from topic_report.topics import load_topics  # noqa: E402

FIRST_DAY = datetime(2026, 6, 1, 6, 0, tzinfo=timezone.utc)
DAYS = 30
SINCE = date(2023, 1, 1)
HELD_SHARE, REVISED_SHARE, OLD_REVISED = 0.08, 0.10, 300
LOOKBACK_DAYS = 7  # the topics' default
TOPICS = ("3d-reconstruction", "retrieval-augmented-generation", "video-generation")


def announced_after(moment: datetime) -> datetime:
    """When arXiv announces a submission made at `moment`: 20:00 New York time on the first
    announcement day whose 14:00 deadline is after it."""
    local = moment.astimezone(ARXIV_TIME)
    day = local.date() + timedelta(days=local.hour >= 14)
    while day.weekday() not in ANNOUNCEMENT_DAYS:
        day += timedelta(days=1)
    return datetime.combine(day, ANNOUNCEMENT_TIME, ARXIV_TIME).astimezone(timezone.utc)


def held_in_moderation(submitted: datetime, rng: random.Random) -> datetime:
    """Announced 1 to 6 days late, yet within LOOKBACK_DAYS of the submission (beyond that the
    daily runs do not promise to find a paper: README, "What a run fetches")."""
    for delay in range(rng.randint(1, 6), 0, -1):
        visible = announced_after(submitted + timedelta(days=delay))
        if visible - submitted <= timedelta(days=LOOKBACK_DAYS):
            return visible
    return announced_after(submitted)


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def simulated_arxiv(rng: random.Random) -> tuple[list[dict], set[str]]:
    """The corpora with submission times, announcement times, held papers (their ids returned
    too) and new versions."""
    corpora = SHARED_DIR / "corpora"
    papers = {p["id"]: p for p in load_jsonl(corpora / "3d-reconstruction-real.jsonl")}
    papers.update((p["id"], p) for p in load_jsonl(corpora / "daily-mixed-2026-06.jsonl"))
    records, held = [], set()
    for paper in papers.values():
        day = datetime.fromisoformat(paper["published"].replace("Z", "+00:00"))
        submitted = day.replace(hour=0, minute=0) + timedelta(minutes=rng.randrange(24 * 60))
        visible = announced_after(submitted)
        if submitted >= FIRST_DAY - timedelta(days=7) and rng.random() < HELD_SHARE:
            visible = held_in_moderation(submitted, rng)
            held.add(paper["id"])
        first = dict(paper, version=1, published=stamp(submitted), updated=stamp(submitted), visible_from=stamp(visible))
        records.append(first)
        if submitted >= FIRST_DAY - timedelta(days=14) and rng.random() < REVISED_SHARE:
            records.append(_revision(first, submitted + timedelta(hours=rng.randrange(24, 20 * 24))))
    old = [r for r in records if "2023" <= r["published"] < "2026" and r["version"] == 1]
    for paper in rng.sample(old, OLD_REVISED):  # new versions of papers years old
        records.append(_revision(paper, FIRST_DAY + timedelta(minutes=rng.randrange(DAYS * 24 * 60))))
    return records, held


def _revision(paper: dict, when: datetime) -> dict:
    return dict(paper, version=2, title=paper["title"] + " (v2)", updated=stamp(when),
                visible_from=stamp(announced_after(when)))


def floor(emulator: ArxivEmulator, query: str, page: int, changed_since: datetime | None) -> int:
    """The fewest requests that can answer a run (see the module docstring)."""
    matches = emulator.search(query)
    if changed_since is None:
        return max(1, math.ceil(len(matches) / page))
    changed = sum(m["updated"] >= stamp(changed_since) for m in matches)
    return max(1, min(math.ceil((changed + 1) / page), math.ceil(len(matches) / page)))


def simulate(records: list[dict], held: set[str], page: int) -> list[dict]:
    topics = [t.model_copy(update={"since": SINCE}) for t in load_topics(ROOT / "topics.yml") if t.slug in TOPICS]
    assert all(t.lookback_days == LOOKBACK_DAYS for t in topics)
    with tempfile.TemporaryDirectory() as tmp, ArxivEmulator(papers=records, recorded_dir=None) as emulator:
        settings = replace(Settings(), api_url=emulator.url, delay_seconds=0.0, page_size=page)
        source = ArxivSource(settings, progress=False)
        results = {t.slug: {"topic": t.name, "requests": 0, "floor": 0, "most": 0, "seconds": 0.0} for t in topics}
        with Store(Path(tmp) / "month.sqlite") as store:
            runs = [FIRST_DAY + timedelta(days=d) for d in range(DAYS)]
            for now in runs:
                emulator.clock = now
                for topic in topics:
                    state = store.topic_state(topic.slug)
                    started = time.perf_counter()
                    outcome = fetch_topic(topic, store, source, now=now)
                    result = results[topic.slug]
                    result["seconds"] += time.perf_counter() - started
                    changed_since = (state.swept_until - timedelta(days=topic.lookback_days)
                                     if outcome.kind == "update" else None)
                    result["floor"] += floor(emulator, build_query(topic, outcome.window), page, changed_since)
                    result["requests"] += outcome.requests
                    result["most"] = max(result["most"], outcome.requests)
            final = runs[-1]
            for topic in topics:
                state = store.topic_state(topic.slug)
                shown = {m["id"]: m["version"] for m in
                         emulator.search(build_query(topic, Window(state.covered_since, final)))}
                stored = {p.id: p.version for p in store.papers(topic.slug)}
                results[topic.slug].update(announced=len(shown), stored=len(stored), equal=stored == shown,
                                           versions=sum(v > 1 for v in stored.values()),
                                           late=len(held & stored.keys()))
    return list(results.values())


def main() -> None:
    records, held = simulated_arxiv(random.Random(7))
    revised = sum(r["version"] > 1 for r in records)
    print(f"{len(records) - revised:,} papers, {len(held)} held in moderation 1–6 days, {revised} new versions "
          f"({OLD_REVISED} of papers of 2023–2025); {DAYS} daily runs of topics since {SINCE}\n")
    print("| page size | topic | announced | stored | stored = announced | of them announced late "
          "| with a new version | requests | floor | most in a run | time |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for page in (2000, 50):
        for r in simulate(records, held, page):
            print(f"| {page} | {r['topic']} | {r['announced']:,} | {r['stored']:,} | {'yes' if r['equal'] else 'NO'} "
                  f"| {r['late']} | {r['versions']} | {r['requests']} | {r['floor']} | {r['most']} "
                  f"| {r['seconds']:.1f} s |")


if __name__ == "__main__":
    os.environ.pop("ARXIV_API_URL", None)
    main()
