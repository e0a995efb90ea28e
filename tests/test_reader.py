"""What a reader does on a topic page, in headless Chromium with the network blocked: find a paper
by any author, abstract word or cross-listed category; sort by a click on a heading; filter by date
and category; read the abstract from the row; see what is new (NEW, UPDATED vN) after a second
build; and read every page on a 390 px phone without sideways scrolling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from arxiv_server import ArxivEmulator, load_atom
from conftest import SAMPLE_ATOM
from site_data import run_build, site_topics
from test_browser import CHROMIUM, Visit, browser, live_table, serve, site_url, visit  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]

PHONE = {"width": 390, "height": 844}
PAGES = ("index.html", "3d-reconstruction.html", "hostile.html", "nothing-yet.html")


def search(page: Visit, text: str) -> list[str]:
    """Type into the table's search box; the rows' text once the table has redrawn."""
    live_table(page).fill(text)
    page.page.wait_for_function(
        "text => document.querySelector('.dt-search input').value === text"
        " && !document.querySelector('#papers_processing[style*=block]')", arg=text)
    return page.rows()


def titles(page: Visit) -> list[str]:
    return page.page.locator("#papers tbody tr td:first-child > a").all_inner_texts()


@pytest.mark.parametrize("query, expected", [
    ("Le Tian", "VersaViT: Enhancing MLLM Vision Backbones"),            # the sixth of eleven authors
    ("blendshapes", "SARS: A Novel Face and Body Shape"),                 # a word only its abstract holds
    ("cs.GR", "TIBR4D: Tracing-Guided Iterative Boundary Refinement"),    # a cross-list
    ("Graphics", "TIBR4D: Tracing-Guided Iterative Boundary Refinement"),  # that category's name
])
def test_search_finds_a_paper_by_any_author_abstract_word_or_category(visit, query, expected):
    page = visit("3d-reconstruction.html")
    rows = search(page, query)
    assert len(rows) == 1 and rows[0].startswith(expected)
    assert page.errors == [] and page.blocked == []


def test_search_finds_the_papers_of_a_submission_date(visit, sample_records):
    day = sample_records[0]["published"][:10]
    page = visit("3d-reconstruction.html")
    rows = search(page, day)
    assert len(rows) == sum(record["published"].startswith(day) for record in sample_records) and day in rows[0]
    assert page.errors == [] and page.blocked == []


def sort_by(page: Visit, heading: str, direction: str) -> None:
    """Click the heading's text (not its arrow) and wait until the table is sorted that way."""
    header = page.page.locator("#papers thead th", has_text=heading)
    header.locator(".dt-column-title").click()
    header.and_(page.page.locator(f"th.dt-ordering-{direction}")).wait_for(timeout=5_000)


def test_a_click_on_a_heading_sorts_and_a_second_click_reverses(visit):
    page = visit("3d-reconstruction.html")
    live_table(page)
    shown = titles(page)
    sort_by(page, "Title", "asc")
    assert titles(page) == sorted(shown, key=str.lower)[:25]
    sort_by(page, "Title", "desc")
    assert titles(page) == sorted(shown, key=str.lower, reverse=True)[:25]
    sort_by(page, "Submitted", "asc")
    days = [row.split("\t")[2] for row in page.rows()]
    assert days == sorted(days) and days[0] == "2026-02-08"


def test_the_table_filters_by_date_range_and_category_and_the_abstract_opens_from_the_row(visit):
    page = visit("3d-reconstruction.html")
    live_table(page)
    page.page.fill("#papers-from", "2026-02-09")
    page.page.fill("#papers-to", "2026-02-09")
    days = {row.split("\t")[2] for row in page.rows()}
    assert days == {"2026-02-09"} and len(page.rows()) == 5
    page.page.fill("#papers-from", "")
    page.page.fill("#papers-to", "")
    page.page.select_option("#papers-category", "cs.LG")
    assert [row.split("\n")[0] for row in page.rows()] == [
        "Analysis of Converged 3D Gaussian Splatting Solutions: Density Effects and Prediction Limit"]
    details = page.page.locator("#papers tbody tr").first.locator("details.paper-more")
    abstract = details.locator(".paper-abstract")
    assert not abstract.is_visible()
    details.locator("summary").click()
    abstract.wait_for(timeout=5_000)  # the details arrive from the file beside the page when a row opens
    assert abstract.is_visible() and "Gaussian" in abstract.inner_text()
    assert details.locator("a.pdf").get_attribute("href") == "https://arxiv.org/pdf/2602.08909"


def test_every_page_fits_a_phone_its_navbar_collapses_and_the_table_shows_title_and_date(browser, site_url):
    context = browser.new_context(viewport=PHONE)
    try:
        for name in PAGES:
            page = context.new_page()
            page.goto(f"{site_url}/{name}")
            page.wait_for_load_state("load")
            if name == "3d-reconstruction.html":
                page.wait_for_selector("table#papers.dataTable")
                headings = [h for h in page.locator("#papers thead th").all_inner_texts() if h.strip()]
                visible = [h.strip() for h, shown in zip(headings, page.locator("#papers thead th").all(), strict=False)
                           if shown.is_visible()]
                assert visible == ["Title", "Submitted"]
            # Quarto's navbar script makes the link absolute; it still ends with the page's name.
            topic_link = page.locator("nav.navbar a[href$='/hostile.html'], nav.navbar a[href='hostile.html']")
            assert not topic_link.is_visible()  # the navbar collapses behind its toggle
            page.locator("nav.navbar button[aria-controls]").click()
            topic_link.wait_for(state="visible", timeout=5_000)
            width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
            assert width <= PHONE["width"], f"{name} is {width} px wide on a {PHONE['width']} px screen"
            page.close()
    finally:
        context.close()


def test_a_second_build_marks_new_and_updated_papers_first(tmp_path, browser):
    records = load_atom(SAMPLE_ATOM)
    config = site_topics(tmp_path / "topics.yml", "3d-reconstruction")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    newest = max(records, key=lambda r: r["published"])
    added = {**newest, "id": "2602.10001", "title": "A brand new depth estimation paper", "published": now,
             "updated": now}
    revised = {**newest, "version": 2, "updated": now, "abstract": newest["abstract"] + " We add experiments."}
    with ArxivEmulator(papers=records) as emulator:
        environment = {**emulator.environment(), "TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite"),
                       "ARXIV_DELAY_SECONDS": "0.01", "ARXIV_TIMEOUT_SECONDS": "2", "ARXIV_RETRIES": "0"}
        args = ("--config", str(config), "--output-dir", str(tmp_path / "_site"))
        assert run_build(environment, *args).code == 0
        emulator.add([added, revised])
        second = run_build(environment, *args)
    assert second.code == 0, second.err
    with serve(tmp_path / "_site") as url:
        page = Visit(browser, f"{url}/3d-reconstruction.html")
        # Text content, not the rendered text: a weak match is folded under "also matched".
        cards = [" ".join(card.split()) for card in page.page.locator(".new-papers .paper-card").all_text_contents()]
        page.context.close()
    assert len(cards) == 2
    assert cards[0].startswith(("NEW A brand new depth estimation paper", "NEWA brand new depth estimation paper"))
    assert "UPDATED v2" in cards[1] and newest["title"] in cards[1]
    # What the new version changed, and when it came.
    assert f"v2 of {now[:10]} (abstract changed from v1)" in cards[1]
    assert "depth estimation" in cards[0]
