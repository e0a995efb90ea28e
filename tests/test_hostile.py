"""Hostile and odd metadata, end to end: served by the emulator, fetched, built into a site and
written as a digest, then checked in the markdown, in the page's HTML and in headless Chromium.

Every title, abstract, author name and comment below tries to run script, inject an element or a
`javascript:` link, break out of the digest's `<details>`, format itself as markdown, decode as an
entity, render as LaTeX, reverse the text after it, or stretch the layout; other papers lack
fields. The properties: nothing runs or is injected, every entry keeps its place and shape, and
every text is shown as given (whitespace folded).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import bibtexparser
import feedparser
import lxml.html
import pytest
from lxml import etree

from topic_report import tex
from topic_report.digest import close_bidi
from topic_report.report import digest_html

from arxiv_server import ArxivEmulator, load_atom
from conftest import SAMPLE_ATOM
from site_data import RENDERERS, BuildRun, charts, require, run_build, site_topics
from test_browser import CHROMIUM, browser, live_table, serve, visit  # noqa: F401 (fixtures)

# --- the papers ------------------------------------------------------------------------------

SCRIPT, IMG = "<script>alert(3)</script>", "<img src=x onerror=alert(3)>"
CJK, EMOJI, ARABIC, HEBREW, OVERRIDE = "李小龙", "Zoë 🦄 Ångström", "محمد الأحمد", "דוד כהן", "\u202eevil"
LONG_TITLE = ("Zebra crossings of a very long title " * 60)[:1999] + "X"
LONG_WORD = "Zebra" + "x" * 1995
THOUSAND = [f"Author {i:04d}" for i in range(1000)]


def paper(n: int, title: str, abstract: str = "Zebra crossings.", authors=("Ada Lovelace",), day: int = 2,
          **extra) -> dict:
    """An emulator record; the topic `hostile` (site_data) matches "zebra crossings"."""
    moment = f"2026-02-{day:02d}T10:{n:02d}:00Z"
    return {"id": f"2602.991{n:02d}", "version": 1, "published": moment, "updated": moment,
            "categories": ["cs.CV"], "primary_category": "cs.CV", "title": title, "abstract": abstract,
            "authors": list(authors), **extra}


PAPERS = [
    paper(1, "<script>alert(1)</script>", "Zebra crossings <script>alert(2)</script>",
          [SCRIPT, IMG, "Ada Lovelace"], comment="<script>alert(4)</script>"),
    paper(2, "<img src=x onerror=alert(1)>",
          'Zebra crossings <img src=x onerror=alert(2)> <img src="https://evil.example/pixel.png">',
          [IMG, SCRIPT], comment="<img src=x onerror=alert(4)>"),
    paper(3, 'javascript:alert(1) [click](javascript:alert(1)) <a href="javascript:alert(1)">link</a>',
          'Zebra crossings [x](javascript:alert(2)) <a href="javascript:alert(2)">y</a>',
          ["[Eve](javascript:alert(3))", '<a href="javascript:alert(3)">Mallory</a>'],
          comment="[c](javascript:alert(4)) javascript:alert(4)"),
    paper(4, "</details> zebra", "Zebra crossings.</details><details open><summary>x</summary>", ["</details>"],
          comment="</details>"),
    paper(5, "**bold** _it_ `code` | pipe [ ] ~~s~~ # hash",
          "# Zebra crossings **not bold** _x_ `y` | a | b | [ ] [x]: https://evil.example/",
          ["# Hash Author", "*Star* Person", "Pipe | Name"]),
    # A backslash must not undo the escaping of the marker after it (a link to evil.example, emphasis, code).
    paper(6, r"\**not bold\** \[x\](https://evil.example/) \`not code\` trailing\\",
          "> Zebra crossings quoted", ["---"]),
    paper(7, "#hashtag ## not a heading", "1. Zebra crossings numbered", ["==="]),
    paper(8, "- not a list item", "- Zebra crossings listed", ["+ Plus", "1. Numbered"]),
    paper(9, "&amp; &lt;script&gt; &#x3C;script&#x3E; AT&T \\<b> R\\&D",
          "Zebra crossings &amp; &lt;b&gt; &#60;img src=x onerror=alert(1)&#62;", ["Ren&eacute; &amp; Co"]),
    paper(10, r"$\alpha$-zebra \textbf{x} $$x$$", r"Zebra crossings with $\alpha$, \textbf{bold}, $$\sum_i x_i$$",
          [r"$\alpha$ Alpha", r"\textbf{Bold}", CJK]),
    paper(11, "خطوط المشاة Invoice \u202efdp.exe", "Zebra crossings: مرحبا שלום \u202ereversed",
          [OVERRIDE, "Ada Lovelace", ARABIC, HEBREW, CJK, EMOJI]),
    paper(12, "🦓 Zebra 🚸 crossings 👩‍🔬🏳️‍🌈", authors=[EMOJI, CJK, ARABIC, HEBREW, OVERRIDE]),
    paper(13, LONG_TITLE, day=3, authors=[EMOJI, ARABIC, HEBREW, OVERRIDE]),
    paper(14, LONG_WORD, day=3),
    paper(15, "A thousand authors on zebra crossings", day=3, authors=THOUSAND),
    paper(16, "Zebra crossings without an abstract", abstract="", day=4),
    paper(17, "", day=4),
    paper(18, "Zebra crossings without authors", day=4, authors=[]),
    paper(19, "Zebra crossings without categories", day=4, categories=[], primary_category=""),
    # An id not of arXiv's form (a rogue API endpoint): never linked, never markup.
    dict(paper(20, "Zebra crossings under an odd id", day=4), id="2602.99120<script>alert(5)</script>"),
]
TITLES = {p["id"]: " ".join(p["title"].split()) for p in PAPERS}
# What neutralize appends to close a text's unterminated bidi embeddings, overrides and isolates.
BIDI_CLOSERS = "\u202c\u2069"


def fold(text: str) -> str:
    return " ".join(text.split())


def shown(text: str) -> str:
    """Visible text as compared with the original: whitespace folded, appended bidi closers dropped."""
    return fold(text).rstrip(BIDI_CLOSERS)


# --- the site and the digest, built once -----------------------------------------------------


@dataclass(frozen=True)
class HostileSite:
    output: Path      # the rendered site: hostile.html, and 3d-reconstruction.html as the benign page
    build: BuildRun
    digest_code: int
    digest: str       # `topic-report digest --topic hostile`, the markdown file


@pytest.fixture(scope="module", params=RENDERERS)
def hostile_site(request, tmp_path_factory) -> HostileSite:
    """Built once per renderer present."""
    from topic_report.cli import main

    renderer = require(request.param)
    root = tmp_path_factory.mktemp(f"hostile-{renderer}")
    config = site_topics(root / "topics.yml", "3d-reconstruction", "hostile")
    environment = {"TOPIC_REPORT_DB": str(root / "papers.sqlite"), "ARXIV_DELAY_SECONDS": "0.01",
                   "ARXIV_TIMEOUT_SECONDS": "2", "ARXIV_RETRIES": "0"}
    with ArxivEmulator(papers=load_atom(SAMPLE_ATOM) + PAPERS, recorded_dir=None) as emulator:
        build = run_build({**environment, **emulator.environment()}, "--config", str(config),
                          "--output-dir", str(root / "_site"), renderer=renderer)
    digest = root / "digest.md"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOPIC_REPORT_DB", environment["TOPIC_REPORT_DB"])
        code = main(["digest", "--config", str(config), "--topic", "hostile", "--output", str(digest)])
    return HostileSite(root / "_site", build, code, digest.read_text(encoding="utf-8") if digest.exists() else "")


@pytest.fixture(scope="module")
def page_html(hostile_site) -> str:
    return (hostile_site.output / "hostile.html").read_text(encoding="utf-8")


def test_every_odd_paper_is_fetched_built_and_digested(hostile_site):
    assert hostile_site.build.code == 0, hostile_site.build.err
    assert f"{len(PAPERS)} fetched, {len(PAPERS)} new" in hostile_site.build.out
    assert hostile_site.digest_code == 0
    assert f"Total papers shown: **{len(PAPERS)}**" in hostile_site.digest


def test_the_site_publishes_the_same_markdown_digest(hostile_site):
    updated = re.compile(r"^_Updated: .*_$", re.M)
    beside_the_page = (hostile_site.output / "hostile.md").read_text(encoding="utf-8")
    assert updated.sub("", beside_the_page) == updated.sub("", hostile_site.digest)


# --- (a) the markdown digest -----------------------------------------------------------------

ALLOWED_TAGS = re.compile(r"<(?:details|summary|/summary|/details)>")


def test_digest_markdown_has_no_raw_tag_start_and_one_details_per_paper(hostile_site):
    text = hostile_site.digest
    assert not re.findall(r"<[A-Za-z/!?][^\n]{0,30}", ALLOWED_TAGS.sub("", text))
    assert text.count("  <details><summary>Abstract</summary>\n") == text.count("  </details>\n") == len(PAPERS)
    assert "javascript:alert(4)" not in text and "alert(4)" not in text  # comments are not published
    assert re.search(r"^- \*\*\(untitled\)\*\*  $", text, re.M)


def rendered_entries(markdown: str) -> list:
    """The digest's entries as a CommonMark renderer (with raw HTML on, as on the site) shows them."""
    document = lxml.html.fromstring(f"<div>{digest_html(markdown)}</div>")
    return document.xpath("./ul/li")


def entry_text(entry) -> dict[str, str]:
    """Title, author line, date line and abstract of one rendered entry; '' where the shape broke."""
    strong = entry.xpath("./p[1]/strong[1]")
    lines = entry.xpath("string(./p[1])").split("\n")
    details = entry.xpath("./details")
    abstract = details[0].xpath("string(.)").removeprefix("Abstract") if details else ""
    return {"title": strong[0].text_content() if strong else "", "lines": lines, "abstract": abstract}


def test_digest_markdown_renders_to_exactly_the_original_text(hostile_site):
    entries = rendered_entries(hostile_site.digest)
    assert len(entries) == len(PAPERS)
    problems = []
    by_url = {}
    for entry in entries:
        text = entry.text_content()
        paper_id = next((p["id"] for p in PAPERS if f"https://arxiv.org/abs/{p['id']}v1" in text), None)
        by_url[paper_id] = entry
    assert set(by_url) == {p["id"] for p in PAPERS}
    for record in PAPERS:
        entry = by_url[record["id"]]
        markup = [e.tag for e in entry.iter() if e.tag not in ("li", "p", "strong", "br", "em", "details", "summary")
                  and not (e.tag == "a" and e.get("href") == f"https://arxiv.org/abs/{record['id']}v1")]
        one_each = all(len(entry.xpath(f".//{tag}")) == 1 for tag in ("strong", "em", "details"))  # title, date, abstract
        if markup or not one_each:
            problems.append((record["id"], "shape", markup, etree.tostring(entry, encoding="unicode")[:300]))
            continue
        parts = entry_text(entry)
        if shown(parts["title"]) != (TITLES[record["id"]] or "(untitled)"):
            problems.append((record["id"], "title", parts["title"][:120]))
        names = record["authors"][:10] + (["et al."] if len(record["authors"]) > 10 else [])
        if record["authors"] and [shown(name) for name in parts["lines"][1].split(", ")] != names:
            problems.append((record["id"], "authors", parts["lines"][1][:120]))
        if shown(parts["abstract"]) != fold(record["abstract"]):
            problems.append((record["id"], "abstract", parts["abstract"][:120]))
    assert problems == []


def test_a_thousand_authors_end_with_et_al_in_the_digest(hostile_site):
    assert "  " + ", ".join(THOUSAND[:10]) + ", et al.  \n" in hostile_site.digest
    assert "Author 0010" not in hostile_site.digest


@pytest.mark.parametrize("text, closed", [
    ("plain", "plain"),
    ("\u202eevil", "\u202eevil\u202c"),
    ("\u202eclosed\u202c", "\u202eclosed\u202c"),
    ("\u2067\u202bnested", "\u2067\u202bnested\u202c\u2069"),
    ("\u2068\u202eisolate ends both\u2069 then \u202d", "\u2068\u202eisolate ends both\u2069 then \u202d\u202c"),
    ("\u202c\u2069 stray closers", "\u202c\u2069 stray closers"),
])
def test_bidi_controls_are_closed_where_the_text_ends(text, closed):

    assert close_bidi(text) == closed


# --- (b) the page's HTML and charts ---------------------------------------------------------


def test_page_html_carries_no_hostile_markup(page_html):
    for raw in ("<script>alert(", "<img src=x", '<a href="javascript:', "</details><script", "<details open",
                '<img src="https://evil', "alert(5)</script>"):
        assert raw not in page_html
    assert "output_stderr" not in page_html and "UserWarning" not in page_html  # e.g. matplotlib's missing glyphs


def test_author_chart_draws_hostile_names_as_escaped_text(hostile_site, page_html):
    top = next(svg for svg in charts(hostile_site.output, page_html) if "Most prolific authors" in svg)
    tree = etree.fromstring(top.encode("utf-8"))
    assert not tree.xpath("//*[local-name()='script' or local-name()='foreignObject']")
    assert not [a for a in tree.xpath("//@*") if a.attrname.lower().startswith("on") or "javascript:" in a.lower()]
    assert "<script" not in top.lower() and "&lt;script&gt;alert(3)&lt;/script&gt;" in top
    labels = {fold(text.xpath("string(.)")) for text in tree.xpath("//*[local-name()='text']")}
    assert {SCRIPT, IMG, CJK, EMOJI, ARABIC, HEBREW, "Ada Lovelace"} <= labels
    assert any(label.startswith(OVERRIDE) for label in labels)


# --- (d) the index and the exports ---------------------------------------------------------------


def test_index_and_exports_hold_every_odd_paper_as_text(hostile_site):
    output = hostile_site.output
    index = (output / "index.html").read_text(encoding="utf-8")
    for raw in ("<script>alert(", "<img src=x", '<a href="javascript:', "alert(5)</script>"):
        assert raw not in index
    ids = sorted(p["id"] for p in PAPERS)
    assert sorted(r["id"] for r in json.loads((output / "hostile.json").read_bytes())["records"]) == ids
    with (output / "hostile.csv").open(encoding="utf-8-sig", newline="") as rows:
        assert len(list(csv.DictReader(rows))) == len(PAPERS)
    library = bibtexparser.parse_file(str(output / "hostile.bib"))
    assert len(library.entries) == len(PAPERS) and not library.failed_blocks
    feed = feedparser.parse((output / "hostile.atom").read_bytes())
    assert not feed.bozo and len(feed.entries) == len(PAPERS)
    assert {entry.title for entry in feed.entries} == {fold(t) or "(untitled)" for t in TITLES.values()}


# --- (b, c) the page in Chromium: digest and interactive table ------------------------------

in_chromium = [pytest.mark.browser,
               pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")]


@pytest.fixture(scope="module")
def site_url(hostile_site):
    """This module's site, for test_browser's `visit` fixture (it asks for `site_url` by name)."""
    with serve(hostile_site.output) as url:
        yield url


INJECTION_CENSUS = """() => {
    // Where a link leads, as a path of the site: Quarto's navbar script makes links absolute.
    const root = location.href.slice(0, location.href.lastIndexOf('/') + 1);
    const target = (e) => {
        const raw = e.getAttribute('href');
        if (raw.startsWith('#') || !e.href) return raw;
        return e.href.startsWith(root) ? (e.href.slice(root.length) || 'index.html') : e.href;
    };
    const attributes = [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => [a.name, a.value]));
    return {
        // the table's data sits in the page's own script as JSON text, so scripts are told by how they start
        scripts: [...document.scripts].map(s => s.src || (s.type === 'application/json' ? 'data: ' + s.id
            : s.textContent.trim().slice(0, 40))),
        imgX: document.querySelectorAll('img[src="x"]').length,
        images: [...document.images].map(i => i.getAttribute('src')),
        handlers: attributes.filter(([name]) => name.toLowerCase().startsWith('on')),
        javascriptUrls: attributes.filter(([, value]) => /^\\s*javascript:/i.test(value)),
        links: [...document.querySelectorAll('[href]')].map(target)
            .filter(h => !h.startsWith('#') && !h.endsWith('.html') && !/^https:[/][/]arxiv[.]org[/](abs|pdf)[/]/.test(h)),
        embedded: document.querySelectorAll('iframe, object, embed, frame, form, details[open], base').length,
        digestEntries: document.querySelectorAll('.digest > ul > li').length,
        digestDetails: [...document.querySelectorAll('.digest > ul > li')]
            .map(li => li.querySelectorAll(':scope > details').length + li.querySelectorAll(':scope details details').length),
        digestMarkup: document.querySelectorAll(
            '.digest li :is(h1, h2, h3, h4, h5, h6, blockquote, ol, ul, li, hr, a:not([href^="https://arxiv.org/abs/"]), '
            + 'code, img, table, em em, strong strong)').length,
    };
}"""


def browser_test(function):
    for mark in in_chromium:
        function = mark(function)
    return function


@browser_test
def test_hostile_page_runs_nothing_injects_nothing_and_fetches_nothing_remote(visit):
    benign = visit("3d-reconstruction.html")  # the sample's page: the same layout, ordinary metadata
    live_table(benign)
    own = benign.page.evaluate(INJECTION_CENSUS)
    page = visit("hostile.html")
    live_table(page)
    census = page.page.evaluate(INJECTION_CENSUS)
    assert census["scripts"] == own["scripts"] and len(own["scripts"]) >= 3
    # The same links, each page's own exports aside (`<slug>.bib` …).
    assert [h.removeprefix("hostile.") for h in census["links"]] == \
        [h.removeprefix("3d-reconstruction.") for h in own["links"]]
    # the six charts, nothing else: inlined (nbconvert) or files beside the page (Quarto)
    assert len(census["images"]) == len(own["images"]) == 6
    assert all(src.startswith("data:image/svg+xml;base64,") or re.fullmatch(r"hostile_files/[\w/.-]+\.svg", src)
               for src in census["images"])
    assert {key: census[key] for key in ("imgX", "javascriptUrls", "embedded")} == {
        "imgX": 0, "javascriptUrls": [], "embedded": 0}
    # Event handlers: only the layout's own, the same on the benign page (Quarto's navbar toggle
    # has an onclick; nbconvert's pages have none), none from the metadata.
    assert census["handlers"] == own["handlers"]
    assert not any("alert" in value for _, value in census["handlers"])
    assert census["digestEntries"] == len(PAPERS)
    assert census["digestDetails"] == [1] * len(PAPERS) and census["digestMarkup"] == 0
    assert page.dialogs == [] and page.errors == [] and page.blocked == []


@browser_test
def test_table_shows_every_title_as_given_and_shortens_a_thousand_authors(visit):
    page = visit("hostile.html")
    live_table(page)
    rows = page.page.evaluate("""() => [...document.querySelectorAll('#papers tbody tr')].map(tr => ({
        cells: [...tr.cells].map(td => {  // the cell as shown, without the title's folded details
            const shown = td.cloneNode(true);
            shown.querySelector('details')?.remove();
            return shown.textContent;
        }),
        href: tr.cells[0].querySelector('a')?.getAttribute('href') ?? null}))""")
    assert len(rows) == len(PAPERS)
    expected = {f"https://arxiv.org/abs/{p['id']}": TITLES[p["id"]] or "(untitled)" for p in PAPERS}
    odd_id = next(p["id"] for p in PAPERS if "<" in p["id"])
    shown_titles = {row["href"]: fold(row["cells"][0]) for row in rows}
    # An override closes with its title; TeX shows as math, read as its characters.
    expected = {href: close_bidi(tex.plain(title)) for href, title in expected.items()}
    assert shown_titles.pop(None) == TITLES[odd_id]  # the odd id: shown, not linked
    del expected[f"https://arxiv.org/abs/{odd_id}"]
    assert shown_titles == expected
    authors = {fold(row["cells"][0]): fold(row["cells"][1]) for row in rows}
    assert authors["A thousand authors on zebra crossings"] == "Author 0000, Author 0001, Author 0002 +997 more"
    assert authors["<script>alert(1)</script>"] == f"{SCRIPT}, {IMG}, Ada Lovelace"
    assert authors["Zebra crossings without authors"] == ""
    column = [h.strip() for h in page.page.locator("#papers thead th").all_inner_texts()].index("Category")
    categories = {fold(row["cells"][0]): row["cells"][column] for row in rows}
    assert categories["Zebra crossings without categories"] == ""


@browser_test
def test_digest_on_the_page_shows_every_title_as_given(visit):
    page = visit("hostile.html")
    live_table(page)
    page.page.click("details.digest-fold > summary")  # the digest is folded below the table
    entries = page.page.evaluate("""() => [...document.querySelectorAll('.digest > ul > li')].map(li => ({
        title: li.querySelector(':scope > p > strong')?.textContent ?? null,
        text: li.querySelector(':scope > p').innerText}))""")
    titles = sorted(shown(entry["title"]) for entry in entries)
    assert titles == sorted(title or "(untitled)" for title in TITLES.values())
    thousand = next(entry["text"] for entry in entries if entry["title"].startswith("A thousand authors"))
    assert ", ".join(THOUSAND[:10]) + ", et al." in thousand and "Author 0010" not in thousand


LEFT_TO_RIGHT = """(root, needle) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
        const at = node.data.indexOf(needle);
        if (at < 0) continue;
        const left = i => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                            return r.getBoundingClientRect().left; };
        return left(at) < left(at + needle.length - 1);
    }
    return null;
}"""


@browser_test
def test_a_right_to_left_override_does_not_reverse_the_names_after_it(visit):
    page = visit("hostile.html")
    live_table(page)
    cell = page.page.locator("#papers tbody tr", has_text="Invoice").locator("td").nth(1)
    page.page.click("details.digest-fold > summary")
    entry = page.page.locator(".digest > ul > li", has_text="Invoice")
    for where in (cell, entry):
        assert where.evaluate(LEFT_TO_RIGHT, "Ada Lovelace") is True


@browser_test
@pytest.mark.parametrize("width", [1280, 600])
def test_long_titles_wrap_instead_of_widening_the_page(visit, width):
    page = visit("hostile.html")
    page.page.set_viewport_size({"width": width, "height": 800})
    live_table(page)
    page.page.select_option(".dt-length select", "100")
    sizes = page.page.evaluate("""() => ({scroll: document.documentElement.scrollWidth,
                                          client: document.documentElement.clientWidth})""")
    assert sizes["scroll"] <= sizes["client"] + 8, sizes
