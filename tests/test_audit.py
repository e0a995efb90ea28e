"""The audit against arXiv's announcements, through the real client and the emulator's listing
(RSS), OAI-PMH and API: papers held in moderation for weeks, a search index a day behind the
announcement, runs missed for days, new versions that no longer match, shared listings, the
cost of a run, faults. Runs set the emulator's clock and `now`, so days pass without waiting."""

import html
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from topic_report.audit import TopicAudit, day_audits
from topic_report.fetching import fetch_all
from topic_report.overview import topic_overview
from topic_report.report import audit_html
from topic_report.store import utc_now
from topic_report.topic_data import TopicData
from topic_report.topics import Topic

DAY = timedelta(days=1)
# Runs at 12:00 UTC (08:00 in New York): the listing of that date is in force.
MONDAY = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RADAR = Topic(name="Radar", slug="radar", terms=["point cloud"], categories=["cs.CV"], window_days=14)


def announced_on(day: datetime) -> datetime:
    """When arXiv's index shows a paper of that listing day: 20:00 New York time the evening before."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def record(n: int, submitted: datetime, listed: datetime, title: str = "Point cloud study", version: int = 1,
           visible: datetime | None = None, categories: tuple[str, ...] = ("cs.CV",), updated: datetime | None = None,
           abstract: str = "We study point sets.") -> dict:
    stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return {"id": f"2605.{n:05d}", "version": version, "title": title, "abstract": abstract,
            "authors": [f"Author {n}"], "published": stamp(submitted), "updated": stamp(updated or submitted),
            "categories": list(categories), "primary_category": categories[0],
            "announced": f"{listed:%Y-%m-%d}", "visible_from": stamp(visible or announced_on(listed))}


@pytest.fixture
def world(arxiv_world):
    return arxiv_world(RADAR)


def test_a_paper_held_in_moderation_for_weeks_is_fetched_by_id_when_announced(world, capsys):
    world.emulator.add([record(1, MONDAY - 3 * DAY, MONDAY)])
    world.run(MONDAY)
    # Submitted 24 days before it is announced: the daily sweep (lookback_days 7) stops before it.
    world.emulator.add([record(2, MONDAY - 23 * DAY, MONDAY + DAY)])
    world.run(MONDAY + DAY)
    assert world.ids() == ["2605.00001", "2605.00002"]
    assert world.kinds() == ["search", "listing", "id_list"]
    out = capsys.readouterr().out
    assert "Radar: audited 2026-06-02 from arXiv's listing; 2 announced papers match in its window, 1 fetched by id, 0 pending" in out


def test_a_paper_announced_before_the_search_index_shows_it_is_pending_then_fetched(world, capsys):
    world.run(MONDAY)
    held = record(3, MONDAY - 20 * DAY, MONDAY + DAY, visible=MONDAY + 2 * DAY)  # the index a day behind
    world.emulator.add([held])
    world.run(MONDAY + DAY)
    assert world.ids() == [] and "0 fetched by id, 1 pending" in capsys.readouterr().out
    tuesday = next(d for d in day_audits(RADAR, world.store, MONDAY + DAY) if d.day == date(2026, 6, 2))
    assert (tuesday.announced, tuesday.matching, tuesday.stored, tuesday.pending) == (1, 1, 0, ("2605.00003",))
    world.run(MONDAY + 2 * DAY)
    assert world.ids() == ["2605.00003"] and "1 fetched by id, 0 pending" in capsys.readouterr().out
    tuesday = next(d for d in day_audits(RADAR, world.store, MONDAY + 2 * DAY) if d.day == date(2026, 6, 2))
    assert (tuesday.stored, tuesday.pending) == (1, ())


def test_the_index_card_counts_the_pending_papers(world):
    world.run(MONDAY)
    world.emulator.add([record(5, MONDAY - 20 * DAY, MONDAY + DAY, visible=MONDAY + 2 * DAY),
                        record(6, MONDAY - 20 * DAY, MONDAY + DAY)])
    world.run(MONDAY + DAY)
    since = RADAR.model_copy(update={"since": date(2026, 5, 25)})  # its page is built months later
    assert topic_overview(TopicData.load(world.store, since)).pending == 1
    world.run(MONDAY + 2 * DAY)
    assert topic_overview(TopicData.load(world.store, since)).pending == 0


def test_a_pending_paper_is_never_forgotten_however_many_runs_pass(world):
    world.run(MONDAY)
    world.emulator.add([record(4, MONDAY - 15 * DAY, MONDAY + DAY, visible=MONDAY + 12 * DAY)])
    for day in range(1, 12):
        world.run(MONDAY + day * DAY)
        assert world.ids() == []
    world.run(MONDAY + 12 * DAY)
    assert world.ids() == ["2605.00004"]


def test_missed_days_are_audited_through_oai_pmh_with_resumption_tokens(world, capsys):
    world.emulator.oai_page_size = 2
    world.run(MONDAY)
    held = [record(10 + n, MONDAY - (12 + n) * DAY, MONDAY + (1 + n % 3) * DAY) for n in range(5)]
    other = record(20, MONDAY - DAY, MONDAY + 2 * DAY, title="Unrelated")
    world.emulator.add([*held, other])
    capsys.readouterr()
    world.run(MONDAY + 4 * DAY)  # Tuesday to Thursday missed (the laptop was off)
    out = capsys.readouterr().out
    assert "audited 3 days, 2026-06-02 to 2026-06-04 through OAI-PMH (runs missed) and 2026-06-05 from arXiv's listing" in out
    assert world.ids() == sorted(p["id"] for p in held)
    assert world.kinds().count("oai") == 3  # 6 records in cs.CV, 2 a page
    assert [r.params.get("resumptionToken") is not None for r in world.made if r.path == "/oai"] == [False, True, True]


def test_listings_that_share_a_category_share_its_harvest_after_missed_days(world):
    graphics = RADAR.model_copy(update={"name": "Graphics", "slug": "graphics", "categories": ["cs.GR", "cs.CV"]})
    world.run(MONDAY, topics=(RADAR, graphics))
    world.emulator.add([record(200, MONDAY - 12 * DAY, MONDAY + DAY),
                        record(201, MONDAY - 12 * DAY, MONDAY + 2 * DAY, categories=("cs.GR", "cs.CV")),
                        record(202, MONDAY - 12 * DAY, MONDAY + 3 * DAY, categories=("cs.GR",))])
    world.run(MONDAY + 4 * DAY, topics=(RADAR, graphics))  # Tuesday to Thursday missed
    # The listings cs.CV and cs.CV+cs.GR: one harvest of cs.CV for both, one of cs.GR.
    assert [r.params["set"] for r in world.made if r.path == "/oai"] == ["cs:cs:CV", "cs:cs:GR"]
    assert world.ids() == ["2605.00200", "2605.00201"]
    assert world.ids(graphics) == ["2605.00200", "2605.00201", "2605.00202"]


def test_a_new_version_that_no_longer_matches_leaves_the_topic_and_never_makes_it_fail(world, capsys):
    world.emulator.add([record(30, MONDAY - 3 * DAY, MONDAY)])
    world.run(MONDAY)
    assert world.ids() == ["2605.00030"]
    world.emulator.add([record(30, MONDAY - 3 * DAY, MONDAY + DAY, version=2, title="Withdrawn",
                               abstract="This paper has been withdrawn.", updated=MONDAY)])
    summary = world.run(MONDAY + DAY)
    out = capsys.readouterr().out
    assert "1 left the topic: arXiv's search no longer finds it (2605.00030)" in out
    assert world.ids() == [] and not summary.failed
    assert list(world.store.departures("radar")) == ["2605.00030"]
    for day in (2, 3, 8):  # and no later run fails for it
        assert not world.run(MONDAY + day * DAY).failed
    monday = next(d for d in day_audits(RADAR, world.store, MONDAY + 8 * DAY) if d.day == date(2026, 6, 1))
    assert (monday.matching, monday.stored, monday.pending, monday.left) == (1, 0, (), 1)


def test_topics_sharing_categories_share_one_listing_and_ids_go_100_a_request(world):
    same = RADAR.model_copy(update={"name": "Other", "slug": "other", "terms": ["study"]})
    world.run(MONDAY, topics=(RADAR, same))
    world.emulator.add([record(100 + n, MONDAY - 25 * DAY, MONDAY + DAY) for n in range(150)])
    world.run(MONDAY + DAY, topics=(RADAR, same))
    # Two sweeps, one listing for both topics' cs.CV, 150 ids in two id_list requests (both topics want them).
    assert world.kinds() == ["search", "search", "listing", "id_list", "id_list"]
    assert len(world.ids()) == 150 and len(world.ids(same)) == 150


def test_weekends_and_holidays_say_why_nothing_was_announced_never_like_a_gap(world):
    world.emulator.holidays = {date(2026, 6, 19)}
    for day in (0, 4, 5, 6, 18):  # Mon, Fri, Sat, Sun, Fri 19 June (Juneteenth: an arXiv holiday)
        world.run(MONDAY + day * DAY)
    days = {d.day: d for d in day_audits(RADAR, world.store, MONDAY + 18 * DAY)}
    assert days[date(2026, 6, 6)].reason == days[date(2026, 6, 7)].reason == \
        "weekend (arXiv announces nothing on Saturday and Sunday)"
    assert days[date(2026, 6, 19)].reason == "arXiv holiday (arXiv's published schedule)"
    assert days[date(2026, 6, 5)].audited == "listing" and days[date(2026, 6, 5)].reason is None
    assert days[date(2026, 6, 10)].audited == "oai"  # missed, covered by the next run
    before = {d.day: d for d in day_audits(RADAR, world.store, MONDAY + 4 * DAY)}[date(2026, 5, 29)]
    assert before.audited is None and before.reason is None  # before the first audit: not audited, no excuse


def test_a_topic_without_categories_or_with_its_own_query_says_it_cannot_be_audited(world, capsys):
    bare = Topic(name="Bare", slug="bare", terms=["point cloud"])
    own = Topic(name="Own", slug="own", query='ti:"point cloud"')
    world.run(MONDAY, topics=(bare, own))
    out = capsys.readouterr().out
    assert "Bare: not audited against arXiv's announcements: it names no categories" in out
    assert "Own: not audited against arXiv's announcements: it has its own query" in out
    assert "listing" not in world.kinds()


def test_a_failing_listing_is_retried_and_a_broken_one_fails_in_one_line_keeping_the_papers(world, capsys):
    world.emulator.add([record(40, MONDAY - 3 * DAY, MONDAY)])
    world.emulator.fault("status", code=503, retry_after=0, when=lambda p: p["_path"].startswith("/rss/"))
    assert not world.run(MONDAY).failed and world.ids() == ["2605.00040"]
    world.emulator.fault("truncated", times=2, when=lambda p: p["_path"].startswith("/rss/"))
    summary = world.run(MONDAY + DAY)
    err = capsys.readouterr().err
    assert [t.slug for t in summary.failed] == ["radar"]
    assert err.count("\n") == 1 and "audit against arXiv's announcements: arXiv sent a truncated or malformed listing" in err
    assert world.ids() == ["2605.00040"]


def test_a_paper_that_leaves_and_rejoins_is_not_new_again(world):
    world.emulator.add([record(50, MONDAY - 3 * DAY, MONDAY)])
    world.run(MONDAY)
    built = utc_now()  # the page's last build
    narrowed = RADAR.model_copy(update={"terms": ["lidar"]})
    world.run(MONDAY + DAY, topics=(narrowed,))
    assert world.ids() == [] and world.store.departures("radar") == {"2605.00050": "no longer matches the topic's definition"}
    world.run(MONDAY + 2 * DAY)  # the edit reverted
    assert world.ids() == ["2605.00050"] and world.store.joined_since("radar", built) == set()
    assert world.store.departures("radar") == {}


def test_the_coverage_section_tells_quiet_days_gaps_and_pending_apart(world):
    world.emulator.holidays = {date(2026, 6, 19)}
    world.run(MONDAY + 15 * DAY)  # Tue 16 June: the first audit
    world.emulator.add([record(60, MONDAY - 20 * DAY, MONDAY + 17 * DAY, visible=MONDAY + 30 * DAY)])
    world.run(MONDAY + 17 * DAY)
    world.run(MONDAY + 21 * DAY)  # Mon 22 June: Fri 19 a holiday, then the weekend
    page = html.unescape(audit_html(TopicAudit.load(RADAR, world.store, MONDAY + 21 * DAY)))
    assert "No announcement: weekend (arXiv announces nothing on Saturday and Sunday)" in page
    assert "No announcement: arXiv holiday (arXiv's published schedule)" in page
    assert "Not audited" not in page  # every weekday since the first audit was read
    assert '<a href="https://arxiv.org/abs/2605.00060">2605.00060</a>, announced Thu 2026-06-18' in page
    assert "<strong>1 pending</strong>" in page
    gap = html.unescape(audit_html(TopicAudit.load(RADAR, world.store, MONDAY + 24 * DAY)))  # runs stopped on the 22nd
    assert gap.count("Not audited: no run read arXiv's listing of this day") == 3
    bare = Topic(name="Bare", slug="bare", terms=["point cloud"])
    assert audit_html(TopicAudit.load(bare, world.store, MONDAY)) == (
        '<p class="audit-none">Not audited against arXiv\'s announcements: it names no categories, and arXiv '
        'announces papers per category; add categories to have it audited.</p>')


# --- history that survives every edit ------------------------------------------------------------

VIDEO = Topic(name="Video", slug="video", terms=["diffusion video"], categories=["cs.CV"], window_days=14)


def test_swapped_slugs_and_a_slug_taken_by_a_new_topic_keep_every_history(world, capsys):
    world.emulator.add([record(70, MONDAY - 3 * DAY, MONDAY), record(71, MONDAY - 3 * DAY, MONDAY, title="Diffusion video")])
    world.run(MONDAY, topics=(RADAR, VIDEO))
    built = utc_now()
    swapped = (RADAR.model_copy(update={"slug": "video"}), VIDEO.model_copy(update={"slug": "radar"}))
    for only in swapped:  # --topic: the whole file is matched all the same
        fetch_all([only], world.store, world.source, now=MONDAY + DAY, everything=list(swapped))
    assert world.ids(swapped[0]) == ["2605.00070"] and world.ids(swapped[1]) == ["2605.00071"]
    assert len(world.store.fetch_runs("video")) == len(world.store.fetch_runs("radar")) >= 2
    assert world.store.joined_since("video", built) == world.store.joined_since("radar", built) == set()  # nothing NEW
    # Radar's slug renamed while a new topic takes its old one, the new topic first in the file.
    newcomer = Topic(name="Newcomer", slug="video", terms=["point cloud"], categories=["cs.GR"], window_days=14)
    moved = RADAR.model_copy(update={"slug": "radar-3d"})
    world.run(MONDAY + 2 * DAY, topics=(newcomer, moved, swapped[1]))
    assert world.ids(moved) == ["2605.00070"] and world.store.joined_since("radar-3d", built) == set()
    assert world.ids(newcomer) == [] and "slug renamed from 'video': its papers and history kept" in capsys.readouterr().out


def test_the_shipped_sample_is_no_history_of_the_topic(world):
    from topic_report.sample import load_sample
    three_d = Topic(name="3D", slug="3d-reconstruction", terms=["point cloud"], categories=["cs.CV"], window_days=14)
    assert load_sample(three_d, world.store) > 0  # June 2026 papers, offline
    world.emulator.add([record(80, MONDAY + 40 * DAY, MONDAY + 42 * DAY)])
    world.run(MONDAY + 42 * DAY, topics=(three_d,))
    assert world.ids(three_d) == ["2605.00080"]  # the sample's papers replaced, its dates not the window
    search = next(r for r in world.made if r.path == "/api/query")
    assert "submittedDate:[20260629" in search.params["search_query"]  # 14 days back, not the sample's June


def test_a_cap_cut_by_a_daily_run_is_said_recorded_and_raising_it_fetches_the_rest(world, capsys):
    capped = RADAR.model_copy(update={"max_results": 3})
    world.run(MONDAY, topics=(capped,))
    world.emulator.add([record(90 + n, MONDAY + DAY - n * timedelta(minutes=5), MONDAY + DAY) for n in range(5)])
    capsys.readouterr()
    world.run(MONDAY + DAY, topics=(capped,))
    out = capsys.readouterr().out
    assert "stopped at max_results (3): raise it to fetch the rest" in out
    assert ("Radar: audited 2026-06-02 from arXiv's listing; 5 announced papers match in its window, "
            "2 beyond the cap of 3 (max_results): the audit fetches none past it") in out
    assert world.store.topic_state("radar").capped_at == 3 and len(world.ids()) == 3
    # Not pending (arXiv serves them): past the cap, said apart on the page.
    audited = TopicAudit.load(capped, world.store, MONDAY + DAY)
    tuesday = next(d for d in audited.days if d.day == date(2026, 6, 2))
    assert (tuesday.matching, tuesday.stored, tuesday.pending, len(tuesday.beyond_cap)) == (5, 3, (), 2)
    assert (audited.cap, audited.pending, audited.beyond_cap) == (3, [], sorted(set(tuesday.beyond_cap)))
    page = html.unescape(audit_html(audited))
    assert "<strong>0 pending</strong>, 2 beyond the cap of 3 (max_results): not fetched; raise max_results" in page
    assert "<td>3 <span class=\"audit-note\">(2 beyond the cap of 3 (max_results))</span></td>" in page
    world.run(MONDAY + 2 * DAY)  # max_results back to its default
    assert len(world.ids()) == 5
    audited = TopicAudit.load(RADAR, world.store, MONDAY + 2 * DAY)
    assert (audited.cap, audited.beyond_cap, audited.pending) == (None, [], [])


def test_narrowing_a_capped_topic_leaves_exactly_what_matches(world):
    world.emulator.add([record(100 + n, MONDAY - (2 + n) * DAY, MONDAY, title="Point cloud LiDAR" if n % 2 else "Point cloud")
                        for n in range(8)])
    world.run(MONDAY)
    narrowed = RADAR.model_copy(update={"terms": ["lidar"], "max_results": 2})
    world.run(MONDAY + DAY, topics=(narrowed,))
    stored = world.store.papers("radar")
    assert all("LiDAR" in p.title for p in stored) and len(stored) == 4


# --- what a build reads of the audit ---------------------------------------------------------------

# Neither the network layer nor what a topic's page needs (pandas, the notebook and its runner).
UNNEEDED_MODULES = ("topic_report.arxiv.transport", "topic_report.arxiv.paging", "requests", "arxiv", "pandas",
                    "nbformat", "papermill", "matplotlib")
BUILD_AND_LIST_MODULES = f"""
import runpy, sys
sys.argv = ["topic-report", "build", "--offline"]
try:
    runpy.run_module("topic_report", run_name="__main__")
except SystemExit as exit:
    print("exit", exit.code)
print("imported", *[name for name in {UNNEEDED_MODULES!r} if name in sys.modules])
"""


def test_a_build_with_nothing_changed_imports_no_arxiv_client_nor_pandas(tmp_path):
    """The page's Coverage section and the build's fingerprint read the audit from the store only."""
    (tmp_path / "topics.yml").write_text("topics:\n  - name: 3D Reconstruction\n    slug: 3d-reconstruction\n"
                                         "    terms: [point cloud]\n    categories: [cs.CV]\n", encoding="utf-8")
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("ARXIV_", "TOPIC_REPORT_"))}
    build = [sys.executable, "-c", BUILD_AND_LIST_MODULES]
    first = subprocess.run(build, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600)
    assert "exit 0" in first.stdout and "page executed" in first.stdout, first.stderr
    nothing_changed = subprocess.run(build, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600)
    assert "unchanged, page kept" in nothing_changed.stdout and "exit 0" in nothing_changed.stdout, nothing_changed.stderr
    assert nothing_changed.stdout.splitlines()[-1] == "imported"
