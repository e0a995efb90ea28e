"""Coverage you can trust: daily runs against an emulator whose index behaves as arXiv's does
(papers announced late, new versions of old papers, a clock ahead), through the real
client (topic_report.arxiv). Each run's `now` and the emulator's clock are set, so days pass without waiting."""

import gc
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from topic_report import TopicReportError
from topic_report.arxiv.schedule import ARXIV_TIME, announcements, settled_before
from topic_report.fetching import fetch_topic
from topic_report.store import Paper, Store
from topic_report.topics import Topic

from arxiv_server import ArxivEmulator

MONDAY = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a run at noon UTC, 08:00 in New York
DAY = timedelta(days=1)
RADAR = Topic(name="Radar", slug="radar", terms=["point cloud", "NeRF"], categories=["cs.CV"], window_days=14)


def record(n: int, submitted: datetime, title: str = "Point cloud study", visible: datetime | None = None,
           version: int = 1, updated: datetime | None = None, abstract: str = "We study things.") -> dict:
    stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    paper = {"id": f"2606.{n:05d}", "version": version, "title": title, "abstract": abstract,
             "authors": [f"Author {n}"], "published": stamp(submitted), "updated": stamp(updated or submitted),
             "categories": ["cs.CV"], "primary_category": "cs.CV"}
    if visible:
        paper["visible_from"] = stamp(visible)
    return paper


@pytest.fixture
def radar(arxiv_world):
    return arxiv_world(RADAR)


def test_a_paper_announced_late_is_stored_by_the_next_run_after_it_shows(radar):
    radar.emulator.add([record(1, MONDAY - 2 * DAY),
                        record(2, MONDAY - DAY, visible=MONDAY + 3 * DAY + timedelta(hours=2))])
    assert radar.ids() == [] and radar.fetch(MONDAY).line().startswith("Radar: 1 fetched, 1 new")
    for day in (1, 2, 3):
        outcome = radar.fetch(MONDAY + day * DAY)
        assert (outcome.counts.new, outcome.requests) == (0, 1)
    outcome = radar.fetch(MONDAY + 4 * DAY)
    assert (outcome.counts.new, outcome.requests, outcome.kind) == (1, 1, "update")
    assert radar.ids() == ["2606.00001", "2606.00002"]


def test_a_paper_shown_within_lookback_days_of_its_submission_is_stored_at_the_limit(radar):
    topic = RADAR.model_copy(update={"lookback_days": 3})
    radar.fetch(MONDAY, topic)
    radar.emulator.add([record(1, MONDAY + DAY, visible=MONDAY + 4 * DAY - timedelta(minutes=1))])
    radar.fetch(MONDAY + 2 * DAY, topic)
    assert radar.fetch(MONDAY + 4 * DAY, topic).counts.new == 1


def test_a_new_version_of_a_stored_paper_however_old_is_stored_by_the_next_run(radar):
    year_ago = MONDAY - 400 * DAY
    radar.emulator.add([record(1, MONDAY - 10 * DAY), record(2, year_ago, title="Old NeRF")])
    radar.fetch(MONDAY)
    radar.fetch(MONDAY + DAY, since=date(2025, 1, 1), until=date(2025, 6, 1))  # a backfill by hand
    assert radar.ids() == ["2606.00001", "2606.00002"]
    radar.emulator.add([
        record(1, MONDAY - 10 * DAY, title="Point cloud study, revised", version=2, updated=MONDAY + 2 * DAY,
               visible=MONDAY + 2 * DAY + timedelta(hours=9)),
        record(2, year_ago, title="Old NeRF, third version", version=3, updated=MONDAY + 3 * DAY,
               abstract="Now with point cloud results."),
    ])
    outcome = radar.fetch(MONDAY + 4 * DAY)
    assert (outcome.counts.new, outcome.counts.updated, outcome.requests) == (0, 2, 1)
    stored = {p.id: p for p in radar.store.papers("radar")}
    assert (stored["2606.00001"].version, stored["2606.00001"].title) == (2, "Point cloud study, revised")
    assert (stored["2606.00002"].version, stored["2606.00002"].title) == (3, "Old NeRF, third version")
    assert radar.store.matched_terms("radar")["2606.00002"] == ["point cloud", "NeRF"]
    sweep = radar.emulator.requests[-1].params
    assert sweep["sortBy"] == "lastUpdatedDate" and sweep["sortOrder"] == "descending"


def test_requests_stay_at_the_floor_one_per_run_and_one_per_page_of_changes(arxiv_world):
    radar = arxiv_world(RADAR, page_size=10)
    radar.emulator.add([record(n, MONDAY - 20 * DAY + n * timedelta(minutes=5)) for n in range(30)])
    radar.fetch(MONDAY, RADAR.model_copy(update={"window_days": 30}))
    topic = RADAR.model_copy(update={"window_days": 30, "lookback_days": 1})
    radar.fetch(MONDAY + DAY, topic)
    assert radar.fetch(MONDAY + 3 * DAY, topic).requests == 1  # nothing new: one request
    late = MONDAY + 3 * DAY + timedelta(hours=6)  # submitted the evening before, announced late
    radar.emulator.add([record(100 + n, MONDAY + 2 * DAY + timedelta(hours=8, minutes=n), visible=late)
                        for n in range(25)])
    outcome = radar.fetch(MONDAY + 4 * DAY, topic)
    assert (outcome.counts.new, outcome.requests) == (25, 3)  # ⌈25 changed / 10 a page⌉
    assert radar.fetch(MONDAY + 6 * DAY, topic).requests == 1


def test_a_quiet_day_asks_for_a_small_page_first_and_reads_only_what_the_last_run_could_not_see(radar):
    radar.emulator.add([record(n, MONDAY - 13 * DAY + n * timedelta(hours=3)) for n in range(100)])
    radar.fetch(MONDAY)
    outcome = radar.fetch(MONDAY + DAY)
    sweep = radar.emulator.requests[-1].params
    assert (outcome.counts.new, outcome.counts.updated, outcome.requests) == (0, 0, 1)
    assert sweep["sortBy"] == "lastUpdatedDate" and int(sweep["max_results"]) < 100
    assert outcome.counts.fetched < 100 and outcome.line().endswith("arXiv reports 100 since 2026-05-18, 100 stored")


def test_a_new_version_dated_before_the_last_run_but_announced_after_it_is_stored(arxiv_world):
    radar = arxiv_world(RADAR, page_size=10)
    radar.emulator.add([record(n, MONDAY - 10 * DAY + n * timedelta(hours=3)) for n in range(40)])
    radar.fetch(MONDAY)
    tuesday = MONDAY + DAY  # 08:00 in New York; that evening's announcement holds what came before 14:00
    announced = tuesday + 12 * timedelta(hours=1)
    radar.emulator.add([record(3, MONDAY - 10 * DAY + 9 * timedelta(hours=1), title="Point cloud study, v2",
                               version=2, updated=tuesday - timedelta(hours=1), visible=announced),
                        record(200, tuesday - timedelta(minutes=30), visible=announced),
                        *(record(300 + n, tuesday + timedelta(minutes=30 + n), visible=announced) for n in range(9))])
    assert radar.fetch(tuesday).counts.new == 0  # none announced yet
    outcome = radar.fetch(tuesday + DAY)  # its first page holds the ten new papers, the newest dated after the run
    assert (outcome.counts.new, outcome.counts.updated) == (10, 1)
    assert {p.id: p.version for p in radar.store.papers("radar")}["2606.00003"] == 2


def test_a_paper_dated_in_the_future_never_moves_the_window_past_now(radar):
    radar.emulator.add([record(1, MONDAY - DAY), record(2, datetime(2099, 1, 1, tzinfo=UTC))])
    radar.fetch(MONDAY, since=date(2026, 5, 1), until=date(2099, 12, 31))
    assert radar.ids() == ["2606.00001", "2606.00002"]  # a bad clock somewhere made a paper of 2099
    radar.fetch(MONDAY)
    radar.emulator.add([record(3, MONDAY + DAY)])
    outcome = radar.fetch(MONDAY + 2 * DAY)
    assert outcome.counts.new == 1 and outcome.window.until == MONDAY + 2 * DAY
    assert outcome.window.clause().endswith(f"TO {MONDAY + 2 * DAY:%Y%m%d%H%M}]")


def test_a_run_with_the_clock_in_the_future_does_not_blind_later_runs(radar):
    radar.emulator.add([record(1, MONDAY - DAY)])
    radar.fetch(MONDAY)
    radar.fetch(datetime(2099, 1, 1, tzinfo=UTC))  # this machine's clock was wrong once
    radar.emulator.add([record(2, MONDAY + DAY)])
    outcome = radar.fetch(MONDAY + 2 * DAY)
    assert outcome.counts.new == 1 and outcome.kind == "window"
    assert "the clock is before the last run's (2099-01-01 00:00 UTC): fetched its whole window" in outcome.line()
    assert radar.fetch(MONDAY + 3 * DAY).kind == "update"


def test_an_emulator_clock_ahead_of_ours_loses_nothing(radar):
    radar.emulator.add([record(1, MONDAY - DAY)])
    radar.fetch(MONDAY)
    radar.emulator.add([record(2, MONDAY + DAY + timedelta(hours=6))])
    radar.emulator.clock = MONDAY + 2 * DAY  # arXiv's clock runs a day ahead of ours
    outcome = fetch_topic(RADAR, radar.store, radar.source, now=MONDAY + DAY)
    assert outcome.counts.new == 0 and radar.ids() == ["2606.00001"]  # not yet submitted, by our clock
    assert radar.fetch(MONDAY + 2 * DAY).counts.new == 1


# --- editing a topic ---------------------------------------------------------------------------

def test_narrowing_a_topic_removes_papers_from_it_not_from_the_store_and_never_fails(radar):
    radar.emulator.add([record(1, MONDAY - 3 * DAY), record(2, MONDAY - 2 * DAY, title="NeRF for all")])
    radar.fetch(MONDAY)
    assert radar.ids() == ["2606.00001", "2606.00002"]
    narrowed = RADAR.model_copy(update={"terms": ["point cloud"]})  # the newest paper no longer matches
    outcome = radar.fetch(MONDAY + DAY, narrowed)
    assert outcome.kind == "window" and outcome.counts.removed == 1
    assert outcome.line().startswith("Radar: 1 fetched, 0 new, 0 updated, 1 API request, 1 no longer matches; "
                                     "its definition changed: fetched its whole window again")
    assert radar.ids(narrowed) == ["2606.00001"]
    assert radar.store.count_papers() == 2  # the paper left the topic, not the store
    outcome = radar.fetch(MONDAY + 2 * DAY, narrowed)  # and later runs work as ever
    assert (outcome.kind, outcome.requests) == ("update", 1)
    excluded = narrowed.model_copy(update={"exclude": ["study"]})
    outcome = radar.fetch(MONDAY + 3 * DAY, excluded)  # nothing left: said, not an error
    assert outcome.counts.removed == 1 and outcome.nothing_matches and radar.ids(excluded) == []


def test_broadening_a_topic_brings_the_older_papers_of_the_new_term(radar):
    radar.emulator.add([record(1, MONDAY - 3 * DAY), record(2, MONDAY - 12 * DAY, title="LiDAR maps"),
                        record(3, MONDAY - 13 * DAY, title="LiDAR odometry"),
                        record(4, MONDAY - 40 * DAY, title="LiDAR before the topic's window")])
    radar.fetch(MONDAY)
    for day in range(1, 30):
        radar.fetch(MONDAY + day * DAY)  # a month of daily runs: the window now spans 43 days
    broadened = RADAR.model_copy(update={"terms": ["point cloud", "NeRF", "LiDAR"]})
    outcome = radar.fetch(MONDAY + 30 * DAY, broadened)
    assert outcome.counts.new == 2 and radar.ids(broadened) == ["2606.00001", "2606.00002", "2606.00003"]
    assert radar.store.matched_terms("radar")["2606.00003"] == ["LiDAR"]


def test_a_renamed_slug_keeps_the_topic_and_a_name_and_terms_edit_keeps_its_history(radar):
    radar.emulator.add([record(1, MONDAY - 3 * DAY), record(2, MONDAY - 2 * DAY, title="Diffusion video")])
    radar.fetch(MONDAY)
    renamed = RADAR.model_copy(update={"slug": "radar-2"})
    outcome = radar.fetch(MONDAY + DAY, renamed)
    assert "slug renamed from 'radar': its papers and history kept" in outcome.line()
    assert (outcome.kind, radar.ids(renamed), radar.ids()) == ("update", ["2606.00001"], [])
    assert len(radar.store.fetch_runs("radar-2")) == 2
    video = Topic(name="Video", slug="radar-2", terms=["diffusion video"])  # name and terms in one edit
    outcome = radar.fetch(MONDAY + 2 * DAY, video)
    assert "renamed from 'Radar' (slug 'radar-2'): its papers and history kept" in outcome.line()
    assert radar.ids(video) == ["2606.00002"] and outcome.counts.new == 1 and outcome.counts.removed == 1
    assert len(radar.store.fetch_runs("radar-2")) == 3  # its log kept


def test_a_new_name_alone_keeps_the_topic(radar):
    radar.emulator.add([record(1, MONDAY - 3 * DAY)])
    radar.fetch(MONDAY)
    outcome = radar.fetch(MONDAY + DAY, RADAR.model_copy(update={"name": "Radar 3D"}))
    assert outcome.kind == "update" and radar.ids() == ["2606.00001"]


# --- the cap ------------------------------------------------------------------------------------

def test_the_cap_is_said_and_raising_it_fetches_the_rest(radar):
    radar.emulator.add([record(n, MONDAY - 10 * DAY + n * timedelta(hours=1)) for n in range(12)])
    capped = RADAR.model_copy(update={"max_results": 5})
    outcome = radar.fetch(MONDAY, capped)
    assert outcome.line().endswith(f"newest 5 of 12 matched since {MONDAY - 14 * DAY:%Y-%m-%d} (max_results 5)")
    assert radar.store.coverage("radar").sentence(5) == \
        f"newest 5 of 12 matched since {MONDAY - 14 * DAY:%Y-%m-%d} (max_results 5)"
    assert radar.fetch(MONDAY + DAY, capped).kind == "update"
    outcome = radar.fetch(MONDAY + 2 * DAY, capped.model_copy(update={"max_results": 100}))
    assert (outcome.kind, outcome.counts.new) == ("window", 7)
    assert "max_results raised: fetched its whole window again" in outcome.line()
    assert outcome.line().endswith(f"arXiv reports 12 since {MONDAY - 14 * DAY:%Y-%m-%d}, 12 stored")
    assert not radar.store.coverage("radar").capped


def test_a_cap_on_dates_given_by_hand_is_said(radar):
    radar.emulator.add([record(n, MONDAY - 10 * DAY + n * timedelta(hours=1)) for n in range(12)])
    outcome = radar.fetch(MONDAY, RADAR.model_copy(update={"max_results": 5}), since=date(2026, 5, 1))
    assert outcome.line().endswith("newest 5 of 12 matched from 2026-05-01 to 2026-06-01 (max_results 5)")


# --- what the run line says ---------------------------------------------------------------------

def test_a_quiet_weekend_is_said_as_such_and_is_no_failure(radar):
    friday, saturday = MONDAY + 4 * DAY, MONDAY + 5 * DAY
    radar.emulator.add([record(1, MONDAY - DAY)])
    radar.fetch(MONDAY)
    radar.fetch(friday)
    outcome = radar.fetch(saturday)
    assert outcome.line() == ("Radar: 1 fetched, 0 new, 0 updated, 1 API request; arXiv announces no papers at "
                              f"weekends; arXiv reports 1 since {MONDAY - 14 * DAY:%Y-%m-%d}, 1 stored")
    tuesday = MONDAY + 8 * DAY
    assert "announces" not in radar.fetch(tuesday).line()  # Monday evening's announcement came and went
    assert "arXiv has announced nothing since the last run" in radar.fetch(tuesday + timedelta(hours=3)).line()


def test_a_fetch_whose_output_cannot_be_written_says_so_in_one_line_and_keeps_what_it_stored(tmp_path):
    (tmp_path / "topics.yml").write_text("topics:\n  - name: Radar\n    slug: radar\n    terms: [point cloud]\n",
                                         encoding="utf-8")
    with ArxivEmulator(recorded_dir=None) as emulator, open("/dev/full", "w") as full:
        emulator.add([record(1, datetime.now(UTC) - 2 * DAY)])
        environment = {**os.environ, **emulator.environment(), "ARXIV_DELAY_SECONDS": "0",
                       "TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
        result = subprocess.run([sys.executable, "-m", "topic_report", "fetch"], cwd=tmp_path, env=environment,
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert (result.returncode, result.stderr) == (
        1, "topic-report: error: cannot write to standard output: No space left on device\n")
    with Store(tmp_path / "papers.sqlite") as store:
        assert [p.id for p in store.papers("radar")] == ["2606.00001"]


def test_arxiv_announces_sunday_to_thursday_at_eight_in_new_york():
    week = [announcements(MONDAY + d * DAY, MONDAY + (d + 1) * DAY) for d in range(7)]
    assert week == [1, 1, 1, 1, 0, 0, 1]  # the evenings of Mon, Tue, Wed, Thu; none Fri, Sat; Sun
    summer = datetime(2026, 6, 2, 0, 0, tzinfo=UTC)  # 20:00 EDT is 00:00 UTC
    assert announcements(summer - timedelta(minutes=1), summer) == 1
    winter = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 20:00 EST is 01:00 UTC
    assert announcements(winter - timedelta(minutes=1), winter) == 1


def test_what_is_settled_follows_the_schedule_holidays_included():
    def deadline(day: int) -> datetime:
        return datetime(2026, 6, day, 14, 0, tzinfo=ARXIV_TIME).astimezone(UTC)
    assert settled_before(MONDAY) == deadline(1) - DAY  # Sunday evening's announcement
    assert settled_before(MONDAY + 5 * DAY) == deadline(4)  # Saturday: Thursday's, none on Friday
    # Friday 19 June is an arXiv holiday: no announcement on Thursday 18th evening, Wednesday's is the last.
    assert settled_before(datetime(2026, 6, 19, 12, 0, tzinfo=UTC)) == deadline(17)


def test_each_request_is_logged_with_what_arxiv_reported_and_what_arrived(arxiv_world):
    radar = arxiv_world(RADAR, page_size=4)
    radar.emulator.add([record(n, MONDAY - 5 * DAY + n * timedelta(hours=1)) for n in range(10)])
    radar.fetch(MONDAY)
    (run,) = radar.store.fetch_runs("radar")
    assert (run["kind"], run["reported"], run["requests"]) == ("window", 10, 3)
    assert [(r.start, r.reported, r.arrived) for r in radar.store.fetch_requests(run["id"])] == [
        (0, 10, 4), (4, 10, 4), (8, 10, 2)]
    coverage = radar.store.coverage("radar")
    assert (coverage.reported, coverage.stored, coverage.capped) == (10, 10, False)
    assert coverage.last_fetched is not None


# --- topics as the seed system defines them -------------------------------------------------------

def test_exclude_and_a_query_of_arxivs_own_syntax_are_asked_of_arxiv(radar):
    radar.emulator.add([record(1, MONDAY - 3 * DAY), record(2, MONDAY - 2 * DAY, title="Point cloud survey"),
                        record(3, MONDAY - DAY, title="Dense NeRF", abstract="A medical imaging method.")])
    topic = RADAR.model_copy(update={"exclude": ["survey", "medical imaging"]})
    radar.fetch(MONDAY, topic)
    assert radar.ids(topic) == ["2606.00001"]
    assert "ANDNOT (ti:\"survey\" OR abs:\"survey\"" in radar.emulator.requests[-1].params["search_query"]
    query = Topic(name="Query", slug="query", query='(ti:"point cloud" OR ti:nerf) ANDNOT abs:"medical imaging"')
    radar.fetch(MONDAY, query)
    assert radar.ids(query) == ["2606.00001", "2606.00002"]
    assert radar.store.matched_terms("query") == {"2606.00001": ["point cloud"], "2606.00002": ["point cloud"]}


def test_a_term_with_characters_of_the_query_syntax_is_asked_safely(radar):
    radar.emulator.add([record(1, MONDAY - 3 * DAY, title="NeRF: radiance fields (and more)")])
    topic = Topic(name="Odd", slug="odd", terms=["NeRF: radiance fields (and more)", "depth AND\\"])
    radar.fetch(MONDAY, topic)
    assert radar.ids(topic) == ["2606.00001"]
    assert radar.emulator.requests[-1].params["search_query"].startswith(
        '(ti:"NeRF radiance fields and more" OR abs:"NeRF radiance fields and more" OR ti:"depth and" OR')


def test_a_failed_run_changes_neither_papers_nor_coverage(radar):
    radar.emulator.add([record(1, MONDAY - 3 * DAY)])
    radar.fetch(MONDAY)
    before = (radar.ids(), radar.store.topic_state("radar"))
    radar.emulator.fault("status", times=10, code=503)
    with pytest.raises(TopicReportError, match="HTTP 503"):
        radar.fetch(MONDAY + DAY)
    assert (radar.ids(), radar.store.topic_state("radar")) == before
    assert radar.store.fetch_runs("radar")[-1]["kind"] == "update"


def test_a_fetch_failing_on_its_third_page_keeps_the_store_as_it_was_and_held_no_earlier_page(arxiv_world):
    """The papers of a topic's pages go into the store's temporary space as they arrive, not into a
    list held to the end: when the third page is asked for, no paper of the first page is alive
    in the process; the fetch fails there, and the store is as it was, the failure logged."""
    world = arxiv_world(RADAR, page_size=5)
    world.emulator.add([record(n, MONDAY - timedelta(hours=n)) for n in range(1, 4)])
    world.fetch(MONDAY)
    world.emulator.add([record(n, MONDAY - timedelta(hours=n)) for n in range(4, 14)])
    tables = ("papers", "topic_papers", "topic_state", "departures", "revisions", "fetch_requests")
    stored = {table: world.store._db.execute(f"SELECT * FROM {table}").fetchall() for table in tables}
    first_page = [f"2606.{n:05d}" for n in range(1, 6)]  # newest first: submitted 1 to 5 hours before
    alive_at_third_page: list[str] = []

    def third_page(params: dict) -> bool:
        if params.get("start") != "10" or alive_at_third_page:
            return False
        gc.collect()  # what is left is held, not garbage awaiting the collector
        alive_at_third_page.extend(obj.id for obj in gc.get_objects() if isinstance(obj, Paper))
        return True

    world.emulator.fault("status", times=1, code=400, when=third_page)
    with pytest.raises(TopicReportError, match="HTTP 400"):
        world.fetch(MONDAY + timedelta(hours=1), RADAR.model_copy(update={"window_days": 15}))
    assert [r.params["start"] for r in world.emulator.requests[-3:]] == ["0", "5", "10"]
    assert alive_at_third_page != [] and not set(first_page) & set(alive_at_third_page)
    assert {table: world.store._db.execute(f"SELECT * FROM {table}").fetchall() for table in tables} == stored
    last_run = world.store.fetch_runs("radar")[-1]
    assert (last_run["outcome"], last_run["error"]) == ("error", "arXiv answered HTTP 400 (after 1 attempt)")
