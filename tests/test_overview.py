"""What the index shows of a topic: counts, weeks, newest titles, last fetch, the sample flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import lxml.html
import pandas as pd
import pytest

from topic_report.audit import TopicAudit
from topic_report.build import BuildState
from topic_report.frame import papers_frame
from topic_report.overview import WEEKS, sparkline_svg, topic_overview, weekly_counts
from topic_report.sample import shows_sample
from topic_report.store import Coverage, Paper
from topic_report.topic_data import TopicData
from topic_report.topics import Topic

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def paper(paper_id: str, age_days: float, title: str = "A title") -> Paper:
    moment = NOW - timedelta(days=age_days)
    return Paper(id=paper_id, version=1, title=title, abstract="", authors=["Ada Lovelace"], published=moment,
                 updated=moment, primary_category="cs.CV", categories=["cs.CV"])


def topic_data(slug: str, papers: list[Paper], *, last_fetched: datetime | None = None, sample: bool = False,
               joined: set[str] | None = None) -> TopicData:
    """A topic's data as TopicData.load gives it: its papers newest first, fetched at `last_fetched`."""
    return TopicData(topic=Topic(name=slug, slug=slug, terms=["a title"]), papers=papers,
                     frame=papers_frame(papers, slug), coverage=Coverage(last_fetched, None, len(papers), False, None),
                     sample=sample, last_run=last_fetched, previous_build=None, joined=joined, updated=set(),
                     audit=TopicAudit([], "it names no categories", None))


def run(kind: str | None, outcome: str = "ok", requests: int = 1, since: str | None = "2026-06-01T00:00:00Z") -> dict:
    """A fetch_runs row, as Store.fetch_runs gives it."""
    return {"kind": kind, "outcome": outcome, "requests": requests, "since": since, "until": since}


def test_weekly_counts_end_at_the_given_moment_oldest_first():
    published = pd.to_datetime(pd.Series([NOW - timedelta(days=d) for d in (0.5, 6.9, 7.1, 20, 83, 85)]), utc=True)
    counts = weekly_counts(published, NOW)
    assert len(counts) == WEEKS and counts[-1] == 2 and counts[-2] == 1 and counts[-3] == 1 and counts[0] == 1
    assert sum(counts) == 5  # 85 days ago is before the twelfth week


def test_a_fetched_topic_counts_its_week_to_the_last_fetch():
    papers = [paper("2606.00003", 1, "Newest <b>"), paper("2606.00002", 2), paper("2606.00001", 30), paper("bad<id>", 40)]
    fetched = NOW - timedelta(hours=1)
    overview = topic_overview(topic_data("t", papers, last_fetched=fetched, joined={"2606.00003", "2606.00002"}))
    assert (overview.papers, overview.new_this_week, overview.new_since_build) == (4, 2, 2)
    assert overview.weeks_to == fetched
    assert [(p.title, p.url) for p in overview.newest] == [
        ("Newest <b>", "https://arxiv.org/abs/2606.00003"), ("A title", "https://arxiv.org/abs/2606.00002"),
        ("A title", "https://arxiv.org/abs/2606.00001")]
    assert overview.page == "t.html"
    assert [a.get("href") for a in lxml.html.fromstring(overview.links).iter("a")] == \
        ["t.html", "t.md", "t.atom", "t.bib", "t.ris", "t.csv", "t.json"]


def test_a_sample_counts_its_weeks_to_its_newest_paper():
    overview = topic_overview(topic_data("t", [paper("2606.00002", 10), paper("2606.00001", 12)], sample=True))
    assert overview.weeks_to == NOW - timedelta(days=10) and overview.new_this_week == 2


@pytest.mark.parametrize("runs, sample", [
    ([run("sample")], True),
    ([run("window", "error"), run("sample")], True),
    ([run(None, requests=0, since=None)], True),  # a store from before schema 2
    ([run("sample"), run("window")], False),
    ([run("sample"), run("dates")], False),
    ([run(None)], False),
    ([], False),
])
def test_a_topic_shows_the_sample_while_a_sample_load_is_its_only_success(runs, sample):
    assert shows_sample(runs) is sample


def test_a_topic_without_papers():
    overview = topic_overview(topic_data("t", []))
    assert (overview.papers, overview.newest, overview.weekly, overview.weeks_to) == (0, [], [0] * WEEKS, None)


def test_sparkline_is_an_accessible_inline_svg_of_the_counts():
    svg = lxml.html.fromstring(str(sparkline_svg([0, 3, 1, 6], NOW)))
    assert svg.tag == "svg" and svg.get("role") == "img"
    assert svg.get("aria-label") == "Papers submitted per week, the 4 weeks to 2026-06-30, oldest first: 0, 3, 1, 6"
    heights = [float(rect.get("height")) for rect in svg.iter("rect")]
    assert heights[3] == max(heights) and heights[0] < heights[2] < heights[1] < heights[3]
    assert "href" not in str(sparkline_svg([1], NOW))  # nothing to fetch


def test_build_state_remembers_the_build_before_each_page(tmp_path):
    state = BuildState(tmp_path / "state.json")
    state.record("t", {"fingerprint": "a"}, 1, "2026-06-01T00:00:00Z")
    assert state.page_previous_build("t") is None
    state.record("t", {"fingerprint": "b"}, 2, "2026-06-02T00:00:00Z")
    reread = BuildState(tmp_path / "state.json")
    assert (reread.previous_build("t"), reread.page_previous_build("t")) == ("2026-06-02T00:00:00Z", "2026-06-01T00:00:00Z")


def test_the_index_card_says_how_many_papers_are_pending_and_nothing_when_none():
    from dataclasses import replace

    from topic_report.site import TopicPage, index_content

    data = topic_data("radar", [paper("2606.00001", 1)], last_fetched=NOW)
    quiet = topic_overview(data)
    waiting = replace(quiet, pending=1234)
    index = index_content([TopicPage(Topic(name="Radar", slug="radar", terms=["a title"]), waiting),
                           TopicPage(Topic(name="Quiet", slug="quiet", terms=["a title"]), quiet)])
    cards = lxml.html.fromstring(index).xpath("//section")
    stats = [{dt.text_content(): dd.text_content() for dt, dd in zip(card.xpath(".//dt"), card.xpath(".//dd"), strict=True)}
             for card in cards]
    assert stats[0]["pending"] == "1,234" and "pending" not in stats[1]
    assert "not yet served by arXiv's API" in cards[0].xpath(".//div[@class='topic-pending']/@title")[0]


def test_the_index_card_shows_a_title_s_tex_as_math_and_keeps_it_inert_for_quarto():
    from topic_report.site import TopicPage, index_content

    data = topic_data("radar", [paper("2606.00001", 1, title="$E^{3}$Gen {{< env HOME >}} <b>x</b>")], last_fetched=NOW)
    index = index_content([TopicPage(Topic(name="Radar", slug="radar", terms=["a title"]), topic_overview(data))])
    item = lxml.html.fromstring(index).xpath("//ul[@class='topic-newest']/li/a")[0]
    assert item.xpath(".//*[local-name()='math']") and "Gen {{< env HOME >}} <b>x</b>" in item.text_content()
    assert "{{<" not in index and "<b>" not in index
