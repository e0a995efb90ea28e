"""The charts on a phone and on a desktop: each chart's SVG carries a phone drawing shown at narrow
widths, and in Chromium every text of every chart of a built page is at least 10 px tall, inside
the chart and clear of the others, at 390 and at 1280 px. Also the terms chart's merged lines."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from topic_report import charts
from topic_report.frame import papers_frame
from topic_report.store import Paper

from test_browser import CHROMIUM, browser, serve  # noqa: F401 (a fixture)

START = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
MIN_TEXT_PX = 10


def frame_of(count: int, days: int = 60):
    papers = [Paper(id=f"2606.{n:05d}", version=1, title=f"Paper {n}", abstract="Point clouds.",
                    authors=[f"Author {n % 7}", f"Author {n % 5 + 10}"], published=START + timedelta(days=n % days),
                    updated=START, primary_category="cs.CV", categories=["cs.CV", "cs.GR"]) for n in range(count)]
    frame = papers_frame(papers, "topic")
    frame["matched_terms"] = [["point cloud", "NeRF"] if n % 3 else ["point clouds"] for n in range(count)]
    return frame


def test_a_term_and_its_plural_are_one_line_of_the_papers_matching_either():
    frame = frame_of(30, days=5)
    frame.loc[0, "matched_terms"] = ["point cloud", "point clouds", "3D-Shapes", "3D shape"]
    shares = charts.term_shares(frame, charts.WEEK)
    assert list(shares.columns) == ["point cloud / point clouds", "NeRF", "3D-Shapes / 3D shape"]
    assert shares.iloc[0].tolist() == pytest.approx([100.0, 100 * 20 / 30, 100 / 30])
    assert not charts._plural_of("point cloud", "point clouds") and not charts._plural_of("NeRF", "RF")


def drawings(document: str) -> list[etree._Element]:
    root = etree.fromstring(document.encode("utf-8"))
    return root.findall(f"{{{charts.SVG}}}svg")


def test_each_chart_ships_a_phone_drawing_with_its_own_ids_shown_only_when_narrow():
    frame = frame_of(120)
    figures = [charts.papers_per_period(frame), charts.cumulative_papers(frame), charts.terms_over_time(frame),
               charts.top_authors(frame, 15), charts.authors_per_paper(frame), charts.categories(frame)]
    for figure in figures:
        document = charts.svg(figure)
        wide, phone = drawings(document)
        assert (wide.get("class"), phone.get("class")) == (charts.WIDE_CLASS, charts.PHONE_CLASS)
        assert f"@media (max-width: {charts.PHONE_UP_TO}px)" in document
        ids = re.findall(r' id="([^"]+)"', document)
        assert len(ids) == len(set(ids))
        for drawing, prefix in ((wide, "wide-"), (phone, "phone-")):
            text = etree.tostring(drawing, encoding="unicode")
            referenced = re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', text)
            defined = set(re.findall(r' id="([^"]+)"', text))
            assert all((a or b).startswith(prefix) and (a or b) in defined for a, b in referenced)
        # Same proportions, half the width: everything drawn twice as large when shown in one box.
        assert figure.phone.get_size_inches() == pytest.approx(figure.get_size_inches() / 2)
        # The image keeps the wide drawing's size: a page that does not narrow it shows that one.
        assert etree.fromstring(document.encode("utf-8")).get("width") == wide.get("viewBox").split()[2] + "pt"
    assert len(figures[3].phone.axes[0].get_yticklabels()) == charts.PHONE.rows < 15


# --- in Chromium, on a built page ---------------------------------------------------------------

# A chart is an <img>: the page cannot look into it. Each one's SVG is laid out again in a frame of
# the image's rendered size, where the SVG's own style sees the same width the image gives it.
MEASURE = """async ({src, width, height}) => {
    const svg = await (await fetch(src)).text();
    const frame = document.createElement('iframe');
    frame.style.cssText = `border: 0; width: ${width}px; height: ${height}px`;
    frame.srcdoc = '<!DOCTYPE html><html><head><style>body { margin: 0 } body > svg { display: block; '
        + 'width: 100%; height: auto }</style></head><body>' + svg.replace(/<\\?xml[^>]*>|<!DOCTYPE[^>]*>/g, '')
        + '</body></html>';
    const loaded = new Promise(resolve => frame.onload = resolve);
    document.body.append(frame);
    await loaded;
    const shown = [...frame.contentDocument.querySelectorAll('text')].filter(t => t.getClientRects().length);
    const boxes = shown.map(t => { const b = t.getBoundingClientRect();
        return {text: t.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom, height: b.height}; });
    frame.remove();
    return boxes;
}"""


def overlap(a: dict, b: dict) -> float:
    return max(0, min(a["right"], b["right"]) - max(a["left"], b["left"])) * \
        max(0, min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]))


@pytest.fixture(scope="module")
def site_url(report_site):
    with serve(report_site.output) as url:
        yield url


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
@pytest.mark.parametrize("width", [390, 1280])
def test_every_chart_is_legible_on_a_phone_and_on_a_desktop(browser, site_url, width):  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{site_url}/3d-reconstruction.html")
    images = page.eval_on_selector_all(
        "img[src^='data:image/svg+xml'], img[src$='.svg']",
        "images => images.map(image => ({src: image.src, width: image.getBoundingClientRect().width,"
        " height: image.getBoundingClientRect().height}))")
    assert len(images) == 6  # papers per day, cumulative, terms, authors, authors per paper, categories
    for image in images:
        assert image["width"] <= width - 30  # shown within the page's column
        texts = page.evaluate(MEASURE, image)
        assert len(texts) >= 4, texts  # a title, an axis label, ticks
        smallest = min(texts, key=lambda text: text["height"])
        assert smallest["height"] >= MIN_TEXT_PX, (width, smallest)
        outside = [text for text in texts if text["left"] < -1 or text["top"] < -1
                   or text["right"] > image["width"] + 1 or text["bottom"] > image["height"] + 1]
        assert outside == [], (width, outside)
        # Tick labels that run into each other (or a legend over an axis label) cannot be read.
        crowded = [(a["text"], b["text"]) for i, a in enumerate(texts) for b in texts[i + 1:] if overlap(a, b) > 4]
        assert crowded == [], (width, crowded)
    page.close()
