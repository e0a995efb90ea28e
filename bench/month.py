"""A simulated month of daily runs: do the papers stored equal the papers announced and matching,
every day, and do the requests stay at the floor?

The loopback emulator serves both real corpora (10,498 papers) the way arXiv shows them: each
paper is announced at the first announcement after its submission (20:00 New York time, Sunday to
Thursday, for submissions before 14:00; none on arXiv's holidays) and listed the next morning;
some are held in moderation for 1 to 6 more days, some for 10 to 30 days (beyond any
`lookback_days`: only the audit finds those), and for some arXiv's search index lags the
announcement by a day. New versions of papers, old ones included, appear during the month. Three
topics of topics.yml are given `since: 2023-01-01` and run every day of June 2026 at 06:00 UTC
(`fetch_all`: the search sweep, then the audit against the listing), except three missed days
(covered by the next run through OAI-PMH); during the month two topics swap slugs, one is renamed
and edited at once, one is narrowed and then reverted.

After every run, for every topic and every audited listing day, each paper announced there that
matches the topic must be stored in it, at the announced version or newer, unless arXiv's search
index does not show it yet (pending) or a later version no longer matches (left). The floor of a
run: per topic ⌈changed papers / page size⌉ search requests (at least one), one listing per
distinct category set, ⌈ids to fetch / 100⌉ id_list requests.

Run: `python bench/month.py` (part of `make bench`). Prints markdown tables; README quotes them.
"""

from __future__ import annotations

import io
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from topic_report.arxiv.paging import ArxivSource  # noqa: E402
from topic_report.arxiv.schedule import ANNOUNCEMENT_TIME, ARXIV_TIME, holidays, is_listing_day  # noqa: E402
from topic_report.audit import day_audits  # noqa: E402
from topic_report.fetching import fetch_all  # noqa: E402
from topic_report.settings import Settings  # noqa: E402
from topic_report.store import Store  # noqa: E402
from topic_report.topics import load_topics  # noqa: E402

from arxiv_server import SHARED_DIR, ArxivEmulator, load_jsonl  # noqa: E402

FIRST_DAY = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
DAYS = 30
SINCE = date(2023, 1, 1)
HELD_SHARE, LONG_HELD_SHARE, LAGGING_SHARE, REVISED_SHARE, OLD_REVISED = 0.08, 0.03, 0.05, 0.10, 300
LOOKBACK_DAYS = 7  # the topics' default
MISSED = {9, 10, 11}  # Wed 10 to Fri 12 June: no run (the laptop was off)
TOPICS = ("3d-reconstruction", "retrieval-augmented-generation", "video-generation")


def announced_after(moment: datetime) -> datetime:
    """When arXiv announces a submission made at `moment`: 20:00 New York time on the first
    announcement evening whose 14:00 deadline is after it (the evening before a listing day)."""
    local = moment.astimezone(ARXIV_TIME)
    day = local.date() + timedelta(days=local.hour >= 14)
    while not is_listing_day(day + timedelta(days=1)):
        day += timedelta(days=1)
    return datetime.combine(day, ANNOUNCEMENT_TIME, ARXIV_TIME).astimezone(UTC)


def listing_of(announcement: datetime) -> str:
    """The listing day of an announcement: the next morning in New York."""
    return (announcement.astimezone(ARXIV_TIME).date() + timedelta(days=1)).isoformat()


def held_in_moderation(submitted: datetime, rng: random.Random) -> datetime:
    """Announced 1 to 6 days late, yet within LOOKBACK_DAYS of the submission."""
    for delay in range(rng.randint(1, 6), 0, -1):
        visible = announced_after(submitted + timedelta(days=delay))
        if visible - submitted <= timedelta(days=LOOKBACK_DAYS):
            return visible
    return announced_after(submitted)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def simulated_arxiv(rng: random.Random) -> tuple[list[dict], dict[str, int]]:
    """The corpora with submission and announcement times, moderation holds (short and of 10 to
    30 days), a search index a day behind for some, and new versions; and how many of each."""
    corpora = SHARED_DIR / "corpora"
    papers = {p["id"]: p for p in load_jsonl(corpora / "3d-reconstruction-real.jsonl")}
    papers.update((p["id"], p) for p in load_jsonl(corpora / "daily-mixed-2026-06.jsonl"))
    records, counts = [], Counter()
    for paper in papers.values():
        day = datetime.fromisoformat(paper["published"].replace("Z", "+00:00"))
        submitted = day.replace(hour=0, minute=0) + timedelta(minutes=rng.randrange(24 * 60))
        announced = announced_after(submitted)
        recent = submitted >= FIRST_DAY - timedelta(days=30)
        draw = rng.random()
        if recent and draw < LONG_HELD_SHARE:
            announced, counts["held 10-30 days"] = announced_after(submitted + timedelta(days=rng.randint(10, 30))), counts["held 10-30 days"] + 1
        elif recent and draw < LONG_HELD_SHARE + HELD_SHARE:
            announced, counts["held 1-6 days"] = held_in_moderation(submitted, rng), counts["held 1-6 days"] + 1
        visible = announced
        if recent and rng.random() < LAGGING_SHARE:
            visible, counts["index a day behind"] = announced + timedelta(days=1), counts["index a day behind"] + 1
        first = dict(paper, version=1, published=stamp(submitted), updated=stamp(submitted),
                     announced=listing_of(announced), visible_from=stamp(visible))
        records.append(first)
        if submitted >= FIRST_DAY - timedelta(days=14) and rng.random() < REVISED_SHARE:
            records.append(_revision(first, submitted + timedelta(hours=rng.randrange(24, 20 * 24))))
    old = [r for r in records if "2023" <= r["published"] < "2026" and r["version"] == 1]
    for paper in rng.sample(old, OLD_REVISED):  # new versions of papers years old
        records.append(_revision(paper, FIRST_DAY + timedelta(minutes=rng.randrange(DAYS * 24 * 60))))
    counts["new versions"] = sum(r["version"] > 1 for r in records)
    return records, counts


def _revision(paper: dict, when: datetime) -> dict:
    announced = announced_after(when)
    return dict(paper, version=2, title=paper["title"] + " (v2)", updated=stamp(when),
                announced=listing_of(announced), visible_from=stamp(announced))


def edited(topics: dict, day: int) -> list:
    """The topics file on a day of the month: the edits users make, tried in turn."""
    three_d, rag, video = topics["3d-reconstruction"], topics["retrieval-augmented-generation"], topics["video-generation"]
    if day >= 14:  # RAG and video swap slugs
        rag, video = rag.model_copy(update={"slug": "video-generation"}), video.model_copy(update={"slug": "retrieval-augmented-generation"})
    if day >= 17:  # 3D renamed and its terms edited in one edit
        three_d = three_d.model_copy(update={"name": "3D reconstruction and depth", "terms": [*three_d.terms, "monocular depth"]})
    if 20 <= day < 23:  # video narrowed, then reverted
        video = video.model_copy(update={"terms": video.terms[:1]})
    return [three_d, rag, video]


def kind(request) -> str:
    if request.path.startswith("/rss/"):
        return "listing"
    if request.path == "/oai":
        return "OAI-PMH"
    return "id_list" if request.params.get("id_list") else "search"


def complete(topic, store: Store, now: datetime, records_by_id: dict[str, list[dict]]) -> bool:
    """Every paper announced on an audited day matching the topic is stored in it, unless
    arXiv's index does not show it yet or a later version no longer matches."""
    for day in day_audits(topic, store, now):
        for paper_id in day.pending:
            shown = [r for r in records_by_id[paper_id] if r["visible_from"] <= stamp(now)]
            if shown and topic.matches(shown[-1]["title"], shown[-1]["abstract"], shown[-1]["categories"]):
                return False
    return True


def simulate(records: list[dict], page: int) -> Iterator[dict]:
    """Each day's run: requests per interface, time, and whether every topic is complete."""
    topics = {t.slug: t.model_copy(update={"since": SINCE}) for t in load_topics(ROOT / "topics.yml") if t.slug in TOPICS}
    assert all(t.lookback_days == LOOKBACK_DAYS for t in topics.values())
    records_by_id: dict[str, list[dict]] = {}
    for record in sorted(records, key=lambda r: r["version"]):
        records_by_id.setdefault(record["id"], []).append(record)
    with tempfile.TemporaryDirectory() as tmp, ArxivEmulator(papers=records, recorded_dir=None) as emulator:
        emulator.holidays = set(holidays())
        settings = replace(Settings(), api_url=emulator.url, rss_url=emulator.rss_url, oai_url=emulator.oai_url,
                           delay_seconds=0.0, page_size=page)
        source = ArxivSource(settings, progress=False)
        with Store(Path(tmp) / "month.sqlite") as store:
            for day in range(DAYS):
                if day in MISSED:
                    continue
                now = FIRST_DAY + timedelta(days=day)
                emulator.clock = now
                current = edited(topics, day)
                before = len(emulator.requests)
                started = time.perf_counter()
                with redirect_stdout(io.StringIO()) as lines:
                    summary = fetch_all(current, store, source, now=now, everything=current)
                assert not summary.failed, lines.getvalue()
                made = Counter(kind(r) for r in emulator.requests[before:])
                yield {"day": now.date(), "seconds": time.perf_counter() - started, **made,
                       "total": len(emulator.requests) - before,
                       "complete": all(complete(t, store, now, records_by_id) for t in current)}


def main() -> None:
    records, counts = simulated_arxiv(random.Random(7))
    print(f"{len(records) - counts['new versions']:,} papers; " + ", ".join(f"{n} {what}" for what, n in counts.items())
          + f"; runs every day of June 2026 at 06:00 UTC but {len(MISSED)} missed, topics since {SINCE}\n")
    print("| day | search | listing | OAI-PMH | id_list | requests | stored = announced and matching | time |")
    print("|---|---|---|---|---|---|---|---|")
    for d in simulate(records, 2000):
        print(f"| {d['day']:%a %d} | {d.get('search', 0)} | {d.get('listing', 0)} | {d.get('OAI-PMH', 0)} "
              f"| {d.get('id_list', 0)} | {d['total']} | {'yes' if d['complete'] else 'NO'} | {d['seconds']:.1f} s |",
              flush=True)


if __name__ == "__main__":
    for name in ("ARXIV_API_URL", "ARXIV_RSS_URL", "ARXIV_OAI_URL"):
        os.environ.pop(name, None)
    main()
