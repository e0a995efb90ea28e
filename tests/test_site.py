"""The built site: index, topic pages, skipping unchanged topics, failures, hostile metadata, Quarto."""

from __future__ import annotations

import csv
import html
import json
import re
from datetime import UTC, datetime
from types import SimpleNamespace

import bibtexparser
import feedparser
import listparser
import lxml.html
import nbformat
import pytest
import rispy
import yaml

from topic_report import build as build_module
from topic_report import tex

from arxiv_server import unused_port
from site_data import (
    HOSTILE_AUTHOR,
    HOSTILE_TITLES,
    HOSTILE_TOPIC,
    charts,
    hostile_records,
    nav_targets,
    run_build,
    site_topics,
)

SLUGS = ("3d-reconstruction", "hostile", "nothing-yet")
NAMES = ("3D Reconstruction", HOSTILE_TOPIC, "Nothing Yet")


def page(report_site, slug: str) -> str:
    return (report_site.output / f"{slug}.html").read_text(encoding="utf-8")


def digest_part(text: str) -> str:
    """The page's digest: its block, up to the end of the fold around it."""
    start = text.index('<div class="digest">')
    return text[start:text.index("</div>\n</details>", start)]


def test_first_build_fetches_executes_and_renders_every_topic(report_site):
    run = report_site.first
    assert run.code == 0, run.err
    assert "3D Reconstruction: 15 fetched, 15 new" in run.out
    for name in NAMES:
        assert f"{name}: page executed in" in run.out
    assert f"and 3 topic pages, rendered with {report_site.renderer_name} (all 4 pages rendered)" in run.out


def test_a_fetched_topic_page_says_what_arxiv_reported_and_what_is_stored(report_site):
    text = page(report_site, "3d-reconstruction")
    assert "Data as of" in text and "A sample, not fetched yet" not in text
    assert re.search(r"arXiv reports 15 since \d{4}-\d\d-\d\d, 15 stored", text)


def index_cards(report_site) -> dict[str, lxml.html.HtmlElement]:
    """The index's card of each topic, by the page it links."""
    document = lxml.html.fromstring((report_site.output / "index.html").read_bytes())
    return {card.xpath("string(.//h2/a/@href)"): card for card in document.xpath("//section[contains(concat(' ', @class, ' '), ' topic-card ')]")}


def stats(card) -> dict[str, str]:
    return {div.findtext("dt"): div.findtext("dd") for div in card.xpath(".//dl[contains(@class, 'topic-stats')]/div")}


def test_index_has_a_card_per_topic_with_its_counts_newest_titles_and_last_fetch(report_site, sample_records):
    cards = index_cards(report_site)
    assert list(cards) == [f"{slug}.html" for slug in SLUGS]
    assert [card.xpath("string(.//h2)") for card in cards.values()] == list(NAMES)
    card = cards["3d-reconstruction.html"]
    # Built before the second build: the weeks end at the first build's fetch.
    assert stats(card) == {"papers in all": "15", "new this week": "0", "new since the last build": "—"}
    newest = sorted(sample_records, key=lambda r: (r["published"], r["id"]), reverse=True)[:3]
    assert [(a.text_content(), a.get("href")) for a in card.xpath(".//ul[contains(@class, 'topic-newest')]//a")] == \
        [(r["title"], f"https://arxiv.org/abs/{r['id']}") for r in newest]
    assert card.xpath("string(.//p[contains(@class, 'topic-fetched')])").split(":", 1)[1].strip().endswith("UTC")
    assert not card.xpath(".//*[contains(@class, 'topic-sample')]")
    label = card.xpath("string(.//svg/@aria-label)")
    assert label.startswith("Papers submitted per week, the 12 weeks to ") and label.endswith(": " + ", ".join(["0"] * 12))
    empty = cards["nothing-yet.html"]
    assert stats(empty)["papers in all"] == "0" and "No papers yet." in empty.text_content()


def test_index_shows_hostile_titles_as_text(report_site):
    card = index_cards(report_site)["hostile.html"]
    assert [a.text_content() for a in card.xpath(".//ul[contains(@class, 'topic-newest')]//a")] == [HOSTILE_TITLES[1], HOSTILE_TITLES[0]]
    assert not card.xpath(".//script|.//img|.//b|.//i")


def test_the_table_library_and_script_are_one_shared_copy_that_every_table_page_links(report_site):
    shared = sorted(path.relative_to(report_site.output).as_posix()
                    for path in (report_site.output / "assets").rglob("*") if path.is_file())
    library_dir = re.fullmatch(r"assets/(datatables-[0-9a-f]{12})/datatables\.js", shared[2])[1]
    assert shared == [f"assets/{library_dir}/datatables.LICENSE.txt", f"assets/{library_dir}/datatables.css",
                      f"assets/{library_dir}/datatables.js", "assets/papers-table/papers-table.css",
                      "assets/papers-table/papers-table.js"]
    library, library_css, script, styles = (f"./{shared[i]}" for i in (2, 1, 4, 3))
    for slug in ("3d-reconstruction", "hostile"):  # the topics with papers, so with a table
        text = page(report_site, slug)
        assert text.count(f'data-library="{library}"') == 1 and text.count(f'href="{library_css}"') == 1
        assert len(re.findall(rf'src="{re.escape(script)}\?v=[0-9a-f]{{12}}"', text)) == 1
        assert len(re.findall(rf'href="{re.escape(styles)}\?v=[0-9a-f]{{12}}"', text)) == 1
        assert "injectModule" not in text and "new DataTable" not in text  # nothing inlined, base64 or otherwise
    assert "datatables" not in page(report_site, "nothing-yet") and "papers-table" not in page(report_site, "nothing-yet")


def test_the_shared_table_library_is_datatables_and_jquery_only_with_their_licences(report_site):
    (library,) = (report_site.output / "assets").glob("datatables-*/datatables.js")
    script, styles = library.read_text(encoding="utf-8"), library.with_suffix(".css").read_text(encoding="utf-8")
    # The licence comments the bundler keeps name every package it holds: DataTables core, its styling, jQuery.
    bundled = re.findall(r"^(\S+\.m?js):$", script.split("Bundled license information:", 1)[1], re.M)
    assert bundled == ["jquery/dist-module/jquery.module.js", "datatables.net/js/dataTables.mjs",
                       "datatables.net-dt/js/dataTables.dataTables.mjs"]
    assert "DataTables 2." in script and "export{" in script  # the major version itables bundled; an ES module
    for extension in ("Buttons", "ColReorder", "ColumnControl", "FixedColumns", "FixedHeader", "KeyTable",
                      "RowGroup", "Scroller", "SearchBuilder", "SearchPanes", "dataTables.select", "JSZip"):
        assert extension not in script and extension.lower() not in styles.lower(), extension
    assert "itables" not in script and "itables" not in styles
    licences = library.with_name("datatables.LICENSE.txt").read_text(encoding="utf-8")
    assert all(name in licences for name in ("datatables.net 2.", "jquery 4.", "Permission is hereby granted"))


def table_data(report_site, slug: str) -> tuple[dict, dict, str]:
    """The rows a page carries, the details beside it, which its table fetches by the address it names, and their version."""
    document = lxml.html.fromstring(page(report_site, slug).encode())
    rows = json.loads(document.get_element_by_id("papers-rows").text)
    address = document.get_element_by_id("papers-details").get("data-src")
    assert document.get_element_by_id("papers-details").text is None  # the details travel in their own file
    name, version = address.split("?v=")
    assert name == f"{slug}.details.json" and re.fullmatch(r"[0-9a-f]{12}", version)
    return rows, json.loads((report_site.output / name).read_text(encoding="utf-8")), version


def test_a_table_page_carries_its_rows_and_its_abstracts_and_authors_are_in_a_file_beside_it(report_site, sample_records):
    rows, details, version = table_data(report_site, "3d-reconstruction")
    ids = [row[rows["fields"].index("id")] for row in rows["rows"]]
    assert sorted(ids) == sorted(r["id"] for r in sample_records) and len(details["abstracts"]) == len(ids)
    by_id = {r["id"]: r for r in sample_records}
    for paper_id, abstract, authors in zip(ids, details["abstracts"], details["authors"], strict=True):
        # Escaped, its TeX as MathML.
        assert abstract == tex.html_of(by_id[paper_id]["abstract"], lambda text: html.escape(text, quote=False))
        assert authors == [html.escape(name, quote=False) for name in by_id[paper_id]["authors"]]
    carried = json.dumps(rows, ensure_ascii=False)
    assert not any(html.escape(r["abstract"], quote=False)[:60] in carried for r in sample_records)
    assert not (report_site.output / "nothing-yet.details.json").exists()
    # Written to their file by the page's kernel: neither the executed notebook nor the renderer held them.
    outputs = "".join("".join(output.get("data", {}).get("text/html", ""))
                      for cell in json.loads((report_site.project / "3d-reconstruction.ipynb").read_text(encoding="utf-8"))["cells"]
                      for output in cell.get("outputs", []))
    assert re.findall(r'<script[^>]*id="papers-details"[^>]*>[^<]*</script>', outputs) == [
        f'<script type="application/json" id="papers-details" data-src="3d-reconstruction.details.json?v={version}"></script>']


@pytest.mark.parametrize("slug", SLUGS)
def test_each_topic_has_its_digest_and_exports_beside_its_page_linked_from_index_and_page(report_site, slug):
    names = [f"{slug}.{suffix}" for suffix in ("md", "atom", "bib", "ris", "csv", "json")]
    card = index_cards(report_site)[f"{slug}.html"]
    assert [a.get("href") for a in card.xpath(".//p[contains(@class, 'topic-links')]/a")] == [f"{slug}.html", *names]
    assert all((report_site.output / name).is_file() for name in names)
    if slug != "nothing-yet":  # an empty page has no headline to carry the links
        links = lxml.html.fromstring(page(report_site, slug).encode()).xpath("//p[contains(@class, 'topic-links')]/a/@href")
        assert links == names


def test_exports_hold_every_paper_of_the_topic(report_site, sample_records):
    ids = sorted(r["id"] for r in sample_records)
    output = report_site.output
    document = json.loads((output / "3d-reconstruction.json").read_text(encoding="utf-8"))
    assert sorted(r["id"] for r in document["records"]) == ids and document["papers"] == 15
    with (output / "3d-reconstruction.csv").open(encoding="utf-8-sig", newline="") as rows:
        assert sorted(row["id"] for row in csv.DictReader(rows)) == [f"arXiv:{paper_id}" for paper_id in ids]
    library = bibtexparser.parse_file(str(output / "3d-reconstruction.bib"))
    assert sorted(entry["eprint"] for entry in library.entries) == ids and not library.failed_blocks
    feed = feedparser.parse((output / "3d-reconstruction.atom").read_bytes())
    assert not feed.bozo and len(feed.entries) == 15
    newest = max(sample_records, key=lambda r: (r["published"], r["id"]))
    assert (feed.entries[0].id, feed.entries[0].title) == (f"https://arxiv.org/abs/{newest['id']}", newest["title"])
    assert feedparser.parse((output / "nothing-yet.atom").read_bytes()).entries == []
    assert sorted(r["accession_number"] for r in rispy.load(output / "3d-reconstruction.ris")) == [
        f"arXiv:{paper_id}" for paper_id in ids]


def test_the_topic_page_carries_a_citation_for_zotero_of_each_paper_it_shows(report_site, sample_records):
    from urllib.parse import parse_qs

    spans = lxml.html.fromstring(page(report_site, "3d-reconstruction").encode()).xpath("//span[@class='Z3988']")
    cited = {parse_qs(span.get("title"))["rft_id"][0] for span in spans}
    assert cited == {f"https://arxiv.org/abs/{r['id']}" for r in sample_records}


def test_the_feed_of_every_topic_and_the_list_of_feeds_are_beside_the_index(report_site, sample_records):
    feed = feedparser.parse((report_site.output / "all.atom").read_bytes())
    assert not feed.bozo and len(feed.entries) == len(sample_records) + len(hostile_records())
    listing = listparser.parse((report_site.output / "feeds.opml").read_bytes())
    assert [f.url for f in listing.feeds] == ["all.atom", *(f"{slug}.atom" for slug in SLUGS)]


def test_each_topic_has_its_markdown_digest_beside_its_page(report_site):
    digest = (report_site.output / "3d-reconstruction.md").read_text(encoding="utf-8")
    assert digest.startswith("# 3D Reconstruction\n\n_Updated: ")
    assert "Total papers shown: **15**" in digest and digest.count("<details>") == 15
    assert "Total papers shown: **0**" in (report_site.output / "nothing-yet.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("slug", SLUGS)
def test_every_page_has_the_navbar_to_every_page(report_site, slug):
    assert nav_targets(page(report_site, slug)) == ["index.html", *(f"{other}.html" for other in SLUGS)]


def test_topic_page_has_its_papers_charts_table_and_digest(report_site, sample_records):
    text = page(report_site, "3d-reconstruction")
    assert '<span class="stat-value">15</span><span class="stat-label">papers</span>' in text
    assert '<span class="stat-value">2026-02-08 – 2026-02-10</span>' in text
    for record in sample_records:
        assert f'<a href="https://arxiv.org/abs/{record["id"]}">' in text  # in What is new
        assert html.escape(record["title"], quote=False) in digest_part(text)
    titles = ["Papers per day", "Cumulative papers", "Terms over time", "Most prolific authors (top ", "Authors per paper",
              "Categories: primary and cross-lists"]
    svgs = charts(report_site.output, text)
    assert len(svgs) == len(titles) and all(title in svg for title, svg in zip(titles, svgs, strict=False))
    assert re.search(r'<table [^>]*id="papers"', text)
    assert digest_part(text).count("<details>") == 15


def test_zero_paper_topic_page_says_no_papers_yet_once(report_site):
    text = page(report_site, "nothing-yet")
    assert "<strong>No papers yet</strong> for Nothing Yet" in text
    assert text.count("No papers yet") == 1
    assert "itables" not in text and not charts(report_site.output, text)


def test_unchanged_topics_are_not_executed_again(report_site):
    run = report_site.second
    assert f"{HOSTILE_TOPIC}: unchanged, page kept" in run.out
    assert "Nothing Yet: unchanged, page kept" in run.out
    assert "page executed" not in run.out
    mtimes = {path.name: path.stat().st_mtime_ns for path in report_site.project.glob("*.ipynb")}
    assert mtimes == report_site.executed_mtimes


def test_unchanged_pages_are_not_rendered_again(report_site):
    rendered = {path.name: path.stat().st_mtime_ns for path in report_site.output.glob("*.html")}
    for slug in SLUGS:  # the index shows each topic's last update, so it may have changed
        assert rendered[f"{slug}.html"] == report_site.rendered_mtimes[f"{slug}.html"]


def test_failed_fetch_keeps_the_topic_page_and_fails_the_build(report_site):
    run = report_site.second
    assert run.code == 1
    assert run.err.strip().splitlines() == [
        "topic-report: error: 3D Reconstruction: arXiv answered HTTP 503 (after 1 attempt)",
        f"topic-report: Nothing Yet: no paper matches this topic from 2026-02-01 to {datetime.now(UTC):%Y-%m-%d}; "
        "check its terms and categories"]
    assert "3D Reconstruction: fetch failed, page kept" in run.out
    assert '<span class="stat-value">15</span><span class="stat-label">papers</span>' in page(report_site, "3d-reconstruction")


def test_hostile_metadata_is_escaped_in_page_table_digest_and_charts(report_site):
    text = page(report_site, "hostile")
    for raw in ("<script>alert(", "<img src=x", "O'Brien <b>", "<b>bold", "</details><script>"):
        assert raw not in text
    for paper_id, title in zip(("2602.99001", "2602.99002"), HOSTILE_TITLES, strict=False):
        assert f'<a href="https://arxiv.org/abs/{paper_id}">{html.escape(title)}</a>' in text  # What is new
        assert html.escape(title, quote=False) in digest_part(text)
    assert html.escape(HOSTILE_AUTHOR, quote=False) in text
    rows, details, _ = table_data(report_site, "hostile")  # the table's rows, and its details beside the page
    title = rows["fields"].index("title")
    assert sorted(row[title] for row in rows["rows"]) == sorted(html.escape(t, quote=False) for t in HOSTILE_TITLES)
    assert details["authors"][0][0] == html.escape(HOSTILE_AUTHOR, quote=False)
    assert html.escape("</details><script>alert(2)</script>", quote=False) in " ".join(details["abstracts"])
    assert "<" not in (report_site.output / "hostile.details.json").read_text(encoding="utf-8")
    digest = digest_part(text)
    assert digest.count("<details>") == digest.count("</details>") == 2
    assert "&lt;/details&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in digest
    top_authors = next(svg for svg in charts(report_site.output, text) if "Most prolific authors" in svg)
    assert "$\\alpha$ O'Brien &lt;b&gt;" in top_authors  # literal: no mathtext, no markup
    assert "α" not in top_authors


def test_topic_names_are_escaped_in_generated_html(report_site):
    escaped = html.escape(HOSTILE_TOPIC)
    for name in ("index.html", "hostile.html", "3d-reconstruction.html"):
        text = (report_site.output / name).read_text(encoding="utf-8")
        assert HOSTILE_TOPIC not in text
        assert escaped in text
    assert f"<title>{escaped} – " in page(report_site, "hostile")


def test_the_project_lists_every_paper_of_each_page_for_the_site_search(report_site, sample_records):
    listed = json.loads((report_site.project / "search-papers.json").read_text(encoding="utf-8"))
    assert list(listed) == ["3d-reconstruction.html", "hostile.html", "nothing-yet.html"]
    assert {paper["id"] for paper in listed["3d-reconstruction.html"]} == {r["id"] for r in sample_records}
    assert {paper["title"] for paper in listed["hostile.html"]} == set(HOSTILE_TITLES)
    assert listed["nothing-yet.html"] == []


def test_quarto_project_lists_every_topic_and_does_not_execute(report_site):
    config = yaml.safe_load((report_site.project / "_quarto.yml").read_text(encoding="utf-8"))
    assert config["project"]["render"] == ["index.qmd", *(f"{slug}.ipynb" for slug in SLUGS)]
    assert config["execute"]["enabled"] is False
    navbar = config["website"]["navbar"]["left"]
    assert [item["href"] for item in navbar] == [f"{slug}.ipynb" for slug in SLUGS]
    assert "<i>" not in navbar[1]["text"]
    # offline pages: the theme layer without the web-font import, the post-render step without CDN scripts
    assert config["format"]["html"]["theme"] == ["cosmo", "offline.scss"]
    assert config["project"]["post-render"] == "offline_pages.py"
    for name in ("index.qmd", "report.css", "offline.scss", "offline_pages.py"):
        assert (report_site.project / name).is_file()


@pytest.mark.parametrize("api_url", ["http://arxiv.invalid/api/query", f"http://127.0.0.1:{unused_port()}/api/query"],
                         ids=["name does not resolve", "connection refused"])
def test_unreachable_arxiv_is_said_once_and_the_sample_fills_an_empty_store(tmp_path, api_url, renderer):
    config = site_topics(tmp_path / "topics.yml", "3d-reconstruction", "nothing-yet")
    environment = {"ARXIV_API_URL": api_url, "ARXIV_RETRIES": "0",
                   "TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
    run = run_build(environment, "--config", str(config), "--output-dir", str(tmp_path / "_site"), renderer=renderer)
    assert run.code == 0, run.err
    assert run.err.count("unreachable") == 1
    assert "3D Reconstruction: no stored papers; loaded 120 from the shipped sample" in run.out
    text = (tmp_path / "_site" / "3d-reconstruction.html").read_text(encoding="utf-8")
    assert '<span class="stat-value">120</span><span class="stat-label">papers</span>' in text
    assert "A sample, not fetched yet:</strong> 120 real arXiv papers" in text
    card = index_cards(SimpleNamespace(output=tmp_path / "_site"))["3d-reconstruction.html"]
    assert "Shipped sample: this topic has not been fetched from arXiv yet" in " ".join(card.text_content().split())
    assert card.xpath("string(.//p[contains(@class, 'topic-fetched')])").split() == ["Last", "fetched:", "never"]


def test_building_one_topic_refreshes_it_and_keeps_the_others(tmp_path, renderer):
    config = site_topics(tmp_path / "topics.yml", "3d-reconstruction", "nothing-yet")
    environment = {"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
    args = ("--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site"))
    assert run_build(environment, *args, renderer=renderer).code == 0
    kept = (tmp_path / "build" / "site" / "3d-reconstruction.ipynb").stat().st_mtime_ns
    run = run_build(environment, *args, "--topic", "nothing-yet", renderer=renderer)
    assert run.code == 0, run.err
    assert "3D Reconstruction" not in run.out and "Nothing Yet: unchanged, page kept" in run.out
    assert (tmp_path / "build" / "site" / "3d-reconstruction.ipynb").stat().st_mtime_ns == kept
    index = (tmp_path / "_site" / "index.html").read_text(encoding="utf-8")
    assert '<a href="3d-reconstruction.html">' in index and '<a href="nothing-yet.html">' in index
    assert "Site: " in run.out and "and 2 topic pages" in run.out


def test_a_page_that_fails_to_execute_is_reported_in_one_line_and_the_build_goes_on(tmp_path, monkeypatch, renderer):
    broken = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell("---\ntitle: x\n---"),
        nbformat.v4.new_code_cell("topic = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("raise ValueError('boom\\nand more')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    broken.cells[0]["id"] = "front-matter"
    nbformat.write(broken, tmp_path / "broken.ipynb")
    monkeypatch.setattr(build_module, "NOTEBOOK", tmp_path / "broken.ipynb")
    config = site_topics(tmp_path / "topics.yml", "nothing-yet")
    run = run_build({"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}, "--offline", "--config", str(config),
                    "--output-dir", str(tmp_path / "_site"), renderer=renderer)
    assert run.code == 1
    failed = tmp_path / "build" / "executing" / "nothing-yet.ipynb"
    assert run.err.strip() == f"topic-report: error: Nothing Yet: page not executed: ValueError: boom (see {failed})"
    assert failed.is_file() and not (tmp_path / "build" / "site" / "nothing-yet.ipynb").exists()
    assert "and 0 topic pages" in run.out


def test_a_rebuild_renders_only_the_pages_that_changed(tmp_path, renderer):
    config = site_topics(tmp_path / "topics.yml", "nothing-yet", "hostile")  # no papers offline: quick pages
    environment = {"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
    args = ("--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site"))

    def build() -> tuple[str, dict[str, int]]:
        run = run_build(environment, *args, renderer=renderer)
        assert run.code == 0, run.err
        return run.out, {path.name: path.stat().st_mtime_ns for path in (tmp_path / "_site").glob("*.html")}

    out, first = build()
    assert "(all 3 pages rendered)" in out
    out, again = build()
    assert "(no page rendered: none changed)" in out and again == first
    topics = yaml.safe_load(config.read_text(encoding="utf-8"))
    topics["topics"][0]["digest_limit"] = 5
    config.write_text(yaml.safe_dump(topics), encoding="utf-8")
    out, changed = build()
    # Only the changed topic's page, and the index where its card changed (the rule).
    assert "Nothing Yet: page executed" in out and re.search(r"\([12] of 3 pages rendered, the others unchanged\)", out)
    assert changed["nothing-yet.html"] != first["nothing-yet.html"]
    assert changed["hostile.html"] == first["hostile.html"]


def test_an_unchanged_topic_costs_no_work_and_a_missing_export_is_written_again(tmp_path):
    config = site_topics(tmp_path / "topics.yml", "3d-reconstruction")
    environment = {"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
    args = ("--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site"))
    assert run_build(environment, *args).code == 0
    output = tmp_path / "_site"
    written = {path.name: path.stat().st_mtime_ns for path in output.glob("3d-reconstruction.*")}
    assert set(written) == {"3d-reconstruction.html", "3d-reconstruction.md", "3d-reconstruction.atom",
                            "3d-reconstruction.bib", "3d-reconstruction.ris", "3d-reconstruction.csv",
                            "3d-reconstruction.json", "3d-reconstruction.details.json"}
    for name in ("3d-reconstruction.csv", "3d-reconstruction.details.json"):
        (output / name).unlink()
    run = run_build(environment, *args)
    assert run.code == 0 and "3D Reconstruction: unchanged, page kept" in run.out
    again = {path.name: path.stat().st_mtime_ns for path in output.glob("3d-reconstruction.*")}
    assert {name: again[name] == written[name] for name in written} == {
        **{name: True for name in written}, "3d-reconstruction.csv": False, "3d-reconstruction.details.json": False}


def test_a_topic_fetched_only_for_chosen_dates_says_so_on_its_card_and_its_page(tmp_path, cli, emulator, monkeypatch):
    for name, value in emulator.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ARXIV_DELAY_SECONDS", "0.01")
    config = site_topics(tmp_path / "topics.yml", "3d-reconstruction")
    environment = {"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
    monkeypatch.setenv("TOPIC_REPORT_DB", environment["TOPIC_REPORT_DB"])
    code, _, err = cli("fetch", "--config", str(config), "--since", "2026-02-01", "--until", "2026-02-28")
    assert code == 0, err
    assert run_build(environment, "--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site")).code == 0
    text = " ".join((tmp_path / "_site" / "3d-reconstruction.html").read_text(encoding="utf-8").split())
    assert "Fetched only for chosen dates" in text and "A sample" not in text
    card = index_cards(SimpleNamespace(output=tmp_path / "_site"))["3d-reconstruction.html"]
    assert "Shipped sample" not in card.text_content()
    assert card.xpath("string(.//p[contains(@class, 'topic-fetched')])").split()[:2] == ["Last", "fetched:"]
    assert card.xpath(".//p[contains(@class, 'topic-fetched')]/time")


def test_the_index_links_the_feed_of_every_topic_and_the_list_of_feeds(report_site):
    document = lxml.html.fromstring((report_site.output / "index.html").read_bytes())
    linked = document.xpath("//p[contains(@class, 'all-feeds')]/a/@href")
    assert linked == ["all.atom", "feeds.opml"]
    assert all((report_site.output / name).is_file() for name in linked)
