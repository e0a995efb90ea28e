"""What the index page shows of each topic: its counts, a sparkline of the last weeks, the newest
titles, when it was last fetched, whether it shows the shipped sample, and its files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from markupsafe import Markup

from topic_report.topic_files import DIGEST, EXPORTS, PAGE, abs_url, file_name, links_html

if TYPE_CHECKING:  # a build where nothing changed unpickles overviews without loading pandas
    import pandas as pd

    from topic_report.topic_data import TopicData

WEEKS = 12
NEWEST_TITLES = 3
SPARK_WIDTH, SPARK_HEIGHT, SPARK_GAP = 120, 28, 2


@dataclass(frozen=True)
class NewestPaper:
    title: str
    url: str | None   # its arXiv page, when the id is of arXiv's form
    submitted: str    # YYYY-MM-DD


@dataclass(frozen=True)
class TopicOverview:
    papers: int
    new_since_build: int | None  # None: no earlier build of its page
    weekly: list[int]            # papers submitted per week, oldest first; the last is "this week"
    weeks_to: datetime | None    # the end of the last week: the data's "as of" (None: no data at all)
    newest: list[NewestPaper]
    last_fetched: datetime | None  # the last successful fetch of its window (Store.coverage)
    sample: bool                 # the topic shows the shipped sample: never fetched
    page: str                    # the topic page's file name
    links: Markup                # its page, digest and exports
    pending: int = 0             # papers arXiv announced matching it that its API does not serve yet (helpers/audit.py)

    @property
    def new_this_week(self) -> int:
        return self.weekly[-1]

    def sparkline(self) -> Markup:
        return sparkline_svg(self.weekly, self.weeks_to)


def weekly_counts(published: pd.Series, weeks_to: datetime, weeks: int = WEEKS) -> list[int]:
    """Papers submitted in each of the `weeks` seven-day spans ending at `weeks_to`, oldest first."""
    import pandas as pd

    counts = [0] * weeks
    ages = (pd.Timestamp(weeks_to) - published) // pd.Timedelta(days=7)
    for age, count in ages[(ages >= 0) & (ages < weeks)].value_counts().items():
        counts[weeks - 1 - int(age)] = int(count)
    return counts


def topic_overview(data: TopicData) -> TopicOverview:
    """The index's view of one topic from its data (its frame newest first). Its last fetch is of
    its window, else of chosen dates (`fetch --since/--until`), as its page says."""
    slug, frame, sample = data.topic.slug, data.frame, data.sample
    last_fetched = data.coverage.last_fetched or data.last_run
    new_since_build = None if data.joined is None else len(data.joined)
    # A fetched topic is current as of its last fetch; a sample as of its newest paper; a topic never
    # fetched and without papers has no weeks to show (and the index stays the same from day to day).
    weeks_to = last_fetched or (frame["published"].max().to_pydatetime() if len(frame) else None)
    newest = [NewestPaper(title, abs_url(paper_id), published.strftime("%Y-%m-%d"))
              for paper_id, title, published in
              zip(frame["id"][:NEWEST_TITLES], frame["title"][:NEWEST_TITLES], frame["published"][:NEWEST_TITLES], strict=False)]
    return TopicOverview(
        papers=len(frame), new_since_build=new_since_build, weekly=weekly_counts(frame["published"], weeks_to) if weeks_to else [0] * WEEKS,
        weeks_to=weeks_to, newest=newest, last_fetched=last_fetched, sample=sample,
        page=file_name(slug, PAGE), links=links_html(slug, (PAGE, DIGEST, *EXPORTS)), pending=len(data.audit.pending))


def sparkline_svg(weekly: list[int], weeks_to: datetime) -> Markup:
    """A small inline bar chart of the weekly counts, its numbers in its accessible name."""
    from topic_report.markup import render

    peak = max(weekly) or 1
    width = (SPARK_WIDTH - SPARK_GAP * (len(weekly) - 1)) / len(weekly)
    label = (f"Papers submitted per week, the {len(weekly)} weeks to {weeks_to:%Y-%m-%d}, oldest first: "
             + ", ".join(map(str, weekly)))
    bars = []
    for i, count in enumerate(weekly):
        height = max(1.0, (SPARK_HEIGHT - 1) * count / peak) if count else 1.0
        bars.append({"count": count, "x": i * (width + SPARK_GAP), "y": SPARK_HEIGHT - height, "width": width,
                     "height": height})
    return render("sparkline.svg.j2", label=label, width=SPARK_WIDTH, height=SPARK_HEIGHT, bars=bars)
