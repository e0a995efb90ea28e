"""The ranking on the page, in headless Chromium: "What is new" by score with its reasons and the
weak matches folded, the table's Score column, its search by arXiv id and its "new since the last
build" filter."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from arxiv_server import ArxivEmulator, load_atom
from conftest import SAMPLE_ATOM
from site_data import run_build, site_topics
from test_browser import CHROMIUM, Visit, browser, serve  # noqa: F401  (browser: the fixture)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")]

NEW_ID = "2602.10001"
NEW_TITLE = "$\\textit{S}^3$Gaussian: sparse-view 3D reconstruction with Gaussian splatting"
NEW_TITLE_READ = "S3Gaussian: sparse-view 3D reconstruction with Gaussian splatting"  # as it shows: S³ in math
LIDAR_ID = "2602.09425"


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The 3D Reconstruction page after a first build (the seed's 15 papers), and after a second
    one that brought one new paper."""
    root = tmp_path_factory.mktemp("ranking-page")
    records = load_atom(SAMPLE_ATOM)
    config = site_topics(root / "topics.yml", "3d-reconstruction")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    added = {**records[0], "id": NEW_ID, "title": NEW_TITLE,
             "published": now, "updated": now}
    with ArxivEmulator(papers=records) as emulator:
        environment = {"ARXIV_API_URL": emulator.url, "TOPIC_REPORT_DB": str(root / "papers.sqlite"),
                       "ARXIV_DELAY_SECONDS": "0.01", "ARXIV_TIMEOUT_SECONDS": "2", "ARXIV_RETRIES": "0"}
        args = ("--config", str(config), "--output-dir", str(root / "_site"))
        assert run_build(environment, *args).code == 0
        shutil.copytree(root / "_site", root / "first")
        emulator.add([added])
        second = run_build(environment, *args)
    assert second.code == 0, second.err
    return root / "first", root / "_site"


def open_page(browser, site):
    with serve(site) as url:
        visit = Visit(browser, f"{url}/3d-reconstruction.html")
        visit.page.wait_for_selector("table#papers.dataTable")
        yield visit
        assert visit.errors == []
        visit.context.close()


@pytest.fixture
def first_page(browser, sites):
    yield from open_page(browser, sites[0])


@pytest.fixture
def second_page(browser, sites):
    yield from open_page(browser, sites[1])


def titles(visit) -> list[str]:
    """The table's titles as shown (a math element's pieces joined, as they read)."""
    return [title.replace("\n", "") for title in visit.page.locator("table#papers tbody tr td:first-child > a").all_inner_texts()]


def test_first_build_lists_the_most_relevant_first_with_why_and_folds_the_weak_ones(first_page):
    strong = first_page.page.locator(".new-papers > .paper-card")
    weak = first_page.page.locator(".new-papers .also-matched .paper-card")
    assert strong.count() == 12 and weak.count() == 3
    assert strong.first.locator(".paper-title a").inner_text().startswith("Single-Slice-to-3D Reconstruction")
    assert strong.first.locator(".paper-why").inner_text() == (
        "title: 3D reconstruction · abstract: point cloud · names the topic · primary cs.CV")
    assert not weak.first.is_visible()
    first_page.page.locator(".also-matched > summary").click()
    assert weak.first.is_visible() and weak.first.locator(".paper-why").inner_text().startswith("abstract: ")


def test_the_table_finds_a_paper_by_its_arxiv_id_and_sorts_by_score(first_page):
    page = first_page.page
    page.fill("input[type=search]", LIDAR_ID)
    page.wait_for_function("document.querySelectorAll('table#papers tbody tr').length === 1")
    assert titles(first_page) == ["Bridging the Modality Gap in Roadside LiDAR: A Training-Free Vision-Language "
                                  "Model Framework for Vehicle Classification"]
    page.fill("input[type=search]", "")
    page.locator("table#papers thead th", has_text="Score").click()
    page.wait_for_function("document.querySelector('table#papers tbody td:first-child > a').textContent"
                           ".startsWith('Single-Slice')")
    scores = [float(s) for s in page.locator("table#papers tbody tr td:nth-child(5)").all_inner_texts()]
    assert scores == sorted(scores, reverse=True) and len(scores) == 15


def test_after_a_second_build_the_new_filter_keeps_the_new_paper_only(second_page):
    page = second_page.page
    cards = page.locator(".new-papers .paper-card").all_inner_texts()
    assert len(cards) == 1 and "NEW" in cards[0] and NEW_TITLE_READ in cards[0].replace("\n", "")
    assert page.locator(".new-papers .paper-card .paper-title math").count() == 1  # TeX shown as math
    assert page.locator("table#papers tbody tr").count() == 16
    page.check("#papers-new")
    page.wait_for_function("document.querySelectorAll('table#papers tbody tr').length === 1")
    assert titles(second_page) == [NEW_TITLE_READ]
    assert page.locator("label", has_text="only the 1 new since the last build").count() == 1


def test_sorting_by_title_ignores_tex_markup(second_page):
    page = second_page.page
    page.locator("table#papers thead th", has_text="Title").click()
    page.wait_for_function("document.querySelector('table#papers tbody td:first-child > a').textContent"
                           ".startsWith('Analysis of Converged')")
    shown = titles(second_page)
    assert shown[shown.index(NEW_TITLE_READ) + 1].startswith("SARS")  # S3Gaussian, among the S
