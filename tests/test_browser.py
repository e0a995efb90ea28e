"""The built site in headless Chromium, with the network blocked: no script errors, a live table,
and hostile metadata that opens no dialog and injects no element."""

from __future__ import annotations

import functools
import json
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import bibtexparser
import feedparser
import pytest

from site_data import HOSTILE_ABSTRACT, HOSTILE_AUTHOR, HOSTILE_TITLES, HOSTILE_TOPIC

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOCAL_HOST = "127.0.0.1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def serve(directory: Path):
    """A loopback HTTP server of `directory` (as `make serve`); yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    with ThreadingHTTPServer((LOCAL_HOST, 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}"
        server.shutdown()


@pytest.fixture(scope="module")
def site_url(report_site):
    with serve(report_site.output) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One page opened with every non-local request blocked, recording what went wrong."""

    def __init__(self, browser, url: str):
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context()
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("dialog", self._dialog)
        self.page.goto(url)

    def _route(self, route) -> None:
        if urlsplit(route.request.url).hostname == LOCAL_HOST:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def rows(self) -> list[str]:
        return self.page.locator("#papers tbody tr").all_inner_texts()

    def links(self, selector: str) -> list[str]:
        """Where the links matched by `selector` lead, as paths of the site ("index.html" for its
        root), judged by the address the browser follows: Quarto's navbar script rewrites every
        link of the live page to an absolute URL and `/index.html` to `/` (quarto-nav.js 1.7.34,
        lines 271-279); nbconvert's pages keep relative ones."""
        root = self.page.url.rsplit("/", 1)[0] + "/"
        hrefs = self.page.eval_on_selector_all(selector, "links => links.map(link => link.href)")
        return [(href.removeprefix(root) or "index.html") if href.startswith(root) else href for href in hrefs]


@pytest.fixture
def visit(browser, site_url):
    visits = []

    def open_page(name: str) -> Visit:
        visits.append(Visit(browser, f"{site_url}/{name}"))
        return visits[-1]

    yield open_page
    for opened in visits:
        opened.context.close()


def live_table(visit: Visit):
    visit.page.wait_for_selector("table#papers.dataTable", timeout=15_000)
    return visit.page.locator(".dt-search input")


def test_topic_page_loads_offline_without_errors_and_its_table_is_live(visit, report_site):
    page = visit("3d-reconstruction.html")
    search = live_table(page)
    assert len(page.rows()) == 15
    search.fill("VersaViT")
    page.page.wait_for_function("document.querySelectorAll('#papers tbody tr').length === 1")
    assert page.rows()[0].startswith("VersaViT: Enhancing MLLM Vision Backbones")
    assert page.page.locator("#papers tbody a").first.get_attribute("href") == "https://arxiv.org/abs/2602.09934"
    assert page.errors == [] and page.blocked == []


@pytest.mark.parametrize("address", ["3d-reconstruction.html#paper-2602.09934", "3d-reconstruction.html"])
def test_a_papers_address_shows_its_row_and_the_table_finds_a_paper_by_id(visit, address):
    """`#paper-<id>` is where the site search's entry of a paper leads."""
    page = visit(address)
    search = live_table(page)
    if "#" not in address:
        search.fill("2602.09934")
    page.page.wait_for_function("document.querySelectorAll('#papers tbody tr').length === 1")
    assert page.rows()[0].startswith("VersaViT: Enhancing MLLM Vision Backbones")
    assert page.errors == [] and page.blocked == []


def test_index_and_empty_topic_pages_load_without_errors(visit):
    for name in ("index.html", "nothing-yet.html"):
        page = visit(name)
        page.page.wait_for_load_state("load")
        navbar = [target for target in page.links("nav a[href]") if target.endswith(".html")]
        assert list(dict.fromkeys(navbar)) == ["index.html", "3d-reconstruction.html", "hostile.html",
                                               "nothing-yet.html"]
        assert page.errors == [] and page.blocked == []
    assert "No papers yet" in page.page.locator("main").inner_text()


def test_hostile_metadata_opens_no_dialog_and_injects_no_element(visit):
    page = visit("hostile.html")
    live_table(page)
    rows = page.rows()
    assert sorted(row.split("\t")[0].split("\n")[0] for row in rows) == sorted(HOSTILE_TITLES)
    assert all(HOSTILE_AUTHOR in row for row in rows)
    injected = page.page.evaluate("""() => ({
        images: document.querySelectorAll('img[src="x"]').length,
        bold: [...document.querySelectorAll('b')].map(b => b.textContent),
        italics: [...document.querySelectorAll('i')].filter(i => i.textContent === 'names').length,
        alertScripts: [...document.scripts].filter(s => s.textContent.trim().startsWith('alert')).length,
        digestItems: document.querySelectorAll('.digest li').length,
        digestDetails: document.querySelectorAll('.digest li > details').length,
    })""")
    assert injected == {"images": 0, "bold": [], "italics": 0, "alertScripts": 0, "digestItems": 2,
                        "digestDetails": 2}
    assert page.page.title().startswith(HOSTILE_TOPIC)
    assert page.dialogs == [] and page.errors == [] and page.blocked == []


def test_a_page_shows_its_title_once_the_notebooks_own_title_hidden(visit):
    page = visit("3d-reconstruction.html")
    assert page.page.locator("h1.title").all_inner_texts() == ["3D Reconstruction"]
    assert page.page.locator(".report-title").count() == 1 and page.page.locator(".report-title").is_hidden()


@pytest.mark.parametrize("width", [390, 1280])
def test_index_is_no_wider_than_the_screen(visit, width):
    page = visit("index.html")
    page.page.set_viewport_size({"width": width, "height": 800})
    assert page.page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.errors == [] and page.blocked == []


@pytest.mark.parametrize("name", ["index.html", "3d-reconstruction.html"])
def test_exports_are_linked_and_download(visit, name):
    page = visit(name)
    page.page.wait_for_load_state("load")
    links = page.page.locator(".topic-links a")
    saved = {}
    root = page.page.url.rsplit("/", 1)[0] + "/"
    for link, target in zip(links.all(), page.links(".topic-links a"), strict=True):
        if not target.startswith("3d-reconstruction."):
            continue
        if link.get_attribute("download") is None:  # a page, the digest or the feed: opened, not saved
            response = page.page.request.get(root + target)
            assert response.ok
            saved[target] = response.body()
            continue
        with page.page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == target
        saved[target] = Path(download.value.path()).read_bytes()
    assert {"3d-reconstruction.atom", "3d-reconstruction.bib", "3d-reconstruction.csv",
            "3d-reconstruction.json"} <= set(saved)
    assert len(feedparser.parse(saved["3d-reconstruction.atom"]).entries) == 15
    assert len(bibtexparser.parse_string(saved["3d-reconstruction.bib"].decode()).entries) == 15
    assert len(saved["3d-reconstruction.csv"].decode("utf-8-sig").strip().splitlines()) == 16
    assert json.loads(saved["3d-reconstruction.json"])["papers"] == 15
    assert page.errors == [] and page.blocked == []


# --- the table's details, fetched when needed ------------------------------------------------

DETAILS_FILE = "3d-reconstruction.details.json"


def requested(page: Visit) -> list[str]:
    """The site's files the page has asked for, by name."""
    return [urlsplit(url).path.rsplit("/", 1)[1] for url in page.page.evaluate(
        "performance.getEntriesByType('resource').map(entry => entry.name)")]


def only_row(page: Visit, title: str) -> None:
    """Wait until the table shows that one paper: until the details arrive, a search for a word only
    they hold shows one row too, saying that nothing matches."""
    page.page.wait_for_function("""title => {
        const rows = document.querySelectorAll('#papers tbody tr');
        return rows.length === 1 && rows[0].innerText.startsWith(title);
    }""", arg=title, timeout=10_000)


def test_a_served_page_loads_its_rows_first_and_its_abstracts_when_the_search_needs_them(visit):
    page = visit("3d-reconstruction.html")
    search = live_table(page)
    first_load = requested(page)
    assert {"datatables.js", "datatables.css", "papers-table.js", "papers-table.css"} <= set(first_load)
    assert DETAILS_FILE not in first_load and len(page.rows()) == 15
    search.fill("blendshapes")  # a word of one abstract only: not in the page's first payload
    only_row(page, "SARS: A Novel Face and Body Shape")
    assert requested(page).count(DETAILS_FILE) == 1
    search.fill("Waqas Ahmed")  # the fourth author: the row shows three
    only_row(page, "SARS: A Novel Face and Body Shape")
    assert requested(page).count(DETAILS_FILE) == 1 and page.errors == [] and page.blocked == []


def test_an_opened_row_shows_its_abstract_authors_and_pdf_from_the_details_file(visit):
    page = visit("3d-reconstruction.html")
    live_table(page)
    row = page.page.locator("#papers tbody tr", has_text="VersaViT")
    row.locator("details.paper-more summary").click()
    abstract = row.locator(".paper-abstract")
    abstract.wait_for(timeout=5_000)
    assert abstract.inner_text().startswith("Multimodal Large Language Models (MLLMs)")
    assert "Le Tian" in row.locator(".paper-authors").inner_text()
    assert row.locator("a.pdf").get_attribute("href") == "https://arxiv.org/pdf/2602.09934"
    assert row.locator("details.paper-more").evaluate("fold => fold.open")  # redrawn with its details, still open
    assert requested(page).count(DETAILS_FILE) == 1 and page.errors == [] and page.blocked == []


def test_the_score_heading_sorts_highest_first(visit):
    page = visit("3d-reconstruction.html")
    live_table(page)
    page.page.locator("#papers thead th", has_text="Score").locator(".dt-column-title").click()
    page.page.locator("#papers thead th.dt-ordering-desc", has_text="Score").wait_for(timeout=5_000)
    scores = [float(row.split("\t")[-1]) for row in page.rows()]
    assert scores == sorted(scores, reverse=True) and len(scores) == 15


def test_hostile_text_in_lazily_loaded_details_stays_text(visit):
    page = visit("hostile.html")
    search = live_table(page)
    search.fill("Zebra")  # in both abstracts: loads the details, every row's search text anew
    page.page.wait_for_function("document.querySelectorAll('#papers tbody tr').length === 2")
    for fold in page.page.locator("#papers details.paper-more").all():
        fold.locator("summary").click()
    page.page.locator("#papers .paper-abstract").nth(1).wait_for(timeout=5_000)
    shown = page.page.evaluate("""() => ({
        images: document.querySelectorAll('#papers img').length,
        bold: document.querySelectorAll('#papers b').length,
        scripts: document.querySelectorAll('#papers script').length,
        abstracts: [...document.querySelectorAll('#papers .paper-abstract')].map(p => p.textContent),
        authors: [...document.querySelectorAll('#papers .paper-authors')].map(p => p.textContent)})""")
    assert {key: shown[key] for key in ("images", "bold", "scripts")} == {"images": 0, "bold": 0, "scripts": 0}
    assert HOSTILE_ABSTRACT in shown["abstracts"]
    assert all(text.startswith(HOSTILE_AUTHOR) for text in shown["authors"])
    assert page.dialogs == [] and page.errors == [] and page.blocked == []


@pytest.mark.parametrize("width", [390, 1280])
def test_the_table_is_usable_on_a_phone_and_a_desktop(visit, width):
    page = visit("3d-reconstruction.html")
    page.page.set_viewport_size({"width": width, "height": 800})
    search = live_table(page)
    assert search.is_visible() and page.page.locator("#papers tbody tr").first.is_visible()
    page.page.locator("#papers tbody tr").first.locator("summary").click()
    page.page.locator("#papers .paper-abstract").first.wait_for(timeout=5_000)
    box = page.page.locator("#papers .paper-abstract").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.errors == [] and page.blocked == []


def test_a_page_opened_from_disk_says_to_serve_the_site(browser, report_site):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto((report_site.output / "3d-reconstruction.html").as_uri())
        note = page.locator("#papers-serve-note")
        note.wait_for(timeout=5_000)
        assert "make serve" in note.inner_text()
    finally:
        context.close()
