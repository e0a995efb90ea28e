"""arXiv's announcement schedule: when papers are announced and which days its listing is empty.

From arXiv's "Availability of submissions" (arXiv/arxiv-docs, source/help/availability.md):
submissions are made public Sunday to Thursday at 20:00 US Eastern time, none on Friday or
Saturday, and arXiv defers a mailing on its holidays. The daily listing (the RSS feeds, arXiv/
arxiv-docs source/help/rss_specifications.md) is dated the morning after an announcement: its
`pubDate` is the announcement date, Monday to Friday, and its `skipDays` say it is empty on
Saturday and Sunday "and on occasional arXiv holidays". Those holidays are shipped as data
(holidays.txt beside this file), in listing days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

ARXIV_TIME = ZoneInfo("America/New_York")
ANNOUNCEMENT_TIME = time(20, 0)
ANNOUNCEMENT_DAYS = {6, 0, 1, 2, 3}  # weekday(): Sunday, Monday … Thursday evenings
LISTING_DAYS = {(day + 1) % 7 for day in ANNOUNCEMENT_DAYS}  # the mornings after: Monday … Friday
# Each announcement holds what was submitted before 14:00 New York time that day (and since the previous deadline).
SUBMISSION_DEADLINE = time(14, 0)
HOLIDAYS_FILE = Path(__file__).with_name("holidays.txt")


@cache
def holidays() -> frozenset[date]:
    lines = HOLIDAYS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(date.fromisoformat(line.strip()) for line in lines if line.strip() and not line.startswith("#"))


def is_listing_day(day: date) -> bool:
    """Whether arXiv's listing of this day holds an announcement."""
    return day.weekday() in LISTING_DAYS and day not in holidays()


def quiet_reason(day: date) -> str | None:
    """Why arXiv's listing of this day is empty by its schedule (None: it announces that day)."""
    if day.weekday() not in LISTING_DAYS:
        return "weekend (arXiv announces nothing on Saturday and Sunday)"
    if day in holidays():
        return "arXiv holiday (arXiv's published schedule)"
    return None


def listing_day(moment: datetime) -> date:
    """The listing in force at `moment`: its date in New York (arXiv rebuilds the feeds overnight)."""
    return moment.astimezone(ARXIV_TIME).date()


def listing_in_force(moment: datetime) -> date:
    """The newest listing day at `moment`: the announcement arXiv's feed shows then (a weekend's or
    a holiday's is the one before)."""
    day = listing_day(moment)
    while not is_listing_day(day):
        day -= timedelta(days=1)
    return day


def listing_days(first: date, last: date) -> list[date]:
    """The days from `first` to `last` (inclusive) whose listing holds an announcement."""
    return [day for offset in range((last - first).days + 1)
            if is_listing_day(day := first + timedelta(days=offset))]


def announcements(after: datetime, until: datetime) -> int:
    """How many of arXiv's announcements (20:00 New York time, the evening before a listing day)
    fall in (after, until]."""
    first, last = after.astimezone(ARXIV_TIME).date(), until.astimezone(ARXIV_TIME).date()
    count = 0
    for evening in (first + timedelta(days=offset) for offset in range((last - first).days + 1)):
        moment = datetime.combine(evening, ANNOUNCEMENT_TIME, ARXIV_TIME)
        count += is_listing_day(evening + timedelta(days=1)) and after < moment <= until
    return count


def settled_before(moment: datetime) -> datetime:
    """Every version submitted before this time had been announced by `moment` (unless held in
    moderation): the submission deadline of arXiv's last announcement at or before `moment`."""
    day = moment.astimezone(ARXIV_TIME).date()
    while True:
        announced = datetime.combine(day, ANNOUNCEMENT_TIME, ARXIV_TIME)
        if is_listing_day(day + timedelta(days=1)) and announced <= moment:
            return datetime.combine(day, SUBMISSION_DEADLINE, ARXIV_TIME).astimezone(UTC)
        day -= timedelta(days=1)


def nothing_announced_reason(previous: datetime, now: datetime) -> str | None:
    """Why a run found nothing new, where arXiv's schedule explains it."""
    if announcements(previous, now):
        return None
    local = now.astimezone(ARXIV_TIME)
    weekend = local.weekday() not in ANNOUNCEMENT_DAYS or (local.weekday() == 6 and local.time() < ANNOUNCEMENT_TIME)
    if weekend:
        return "arXiv announces no papers at weekends"
    if local.date() in holidays():
        return "arXiv announces nothing on its holidays"
    return "arXiv has announced nothing since the last run"
