"""The exports of a topic (BibTeX, RIS, CSV, JSON, Atom) and of the site (all.atom, feeds.opml) made
from hostile and odd papers, read back with independent readers: bibtexparser and pybtex, rispy,
the csv module, json, feedparser, listparser and lxml."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import bibtexparser
import feedparser
import listparser
import lxml.html
import pandas as pd
import pytest
import rispy
from lxml import etree
from pybtex.database import parse_string as pybtex_parse
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from test_hostile import PAPERS

from topic_report import TopicReportError, exports, settings, topic_files
from topic_report.frame import papers_frame
from topic_report.ranking import ranked
from topic_report.store import Paper
from topic_report.topics import Topic

TOPIC = Topic(name="Hostile <i>names</i> & co", slug="hostile", terms=["zebra crossings"])
# Text that tries to break out of a BibTeX field, run a LaTeX command or a spreadsheet formula.
ODD = [
    {"id": "2602.99201", "title": "Unbalanced { brace and } closing }} {{", "authors": ["Tom and Jerry", "Smith, Jr., John"],
     "abstract": "=HYPERLINK(\"https://evil.example\",\"x\")"},
    {"id": "2602.99202", "title": r"\input{/etc/passwd} \write18{rm -rf /} 100% & #1 _x ^y ~z",
     "authors": ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1 Plus", "-1 Minus", "\tTab"], "journal_ref": "J. {Odd} 1 (2026)",
     "doi": "10.1000/x{y}\\z"},
    {"id": "2602.99203", "title": "Müller's Über-Straße — naïve café", "authors": ["Jürgen Müller", "Élodie Côté"],
     "doi": "10.1109/CVPR.2026.00123", "journal_ref": "CVPR 2026"},
    {"id": "2602.99204", "title": "Control\x01chars\x0bin\x1ftext", "authors": ["Nul\x00Name"]},
]


def paper(record: dict) -> Paper:
    moment = datetime.fromisoformat(record.get("published", "2026-02-05T10:00:00Z"))
    return Paper(id=record["id"], version=record.get("version", 1), title=record["title"],
                 abstract=record.get("abstract", "Zebra crossings."), authors=list(record["authors"]),
                 published=moment, updated=datetime.fromisoformat(record.get("updated", moment.isoformat())),
                 primary_category=record.get("primary_category", "cs.CV"),
                 categories=list(record.get("categories", ["cs.CV"])), comment=record.get("comment"),
                 journal_ref=record.get("journal_ref"), doi=record.get("doi"))


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return papers_frame([paper(r) for r in PAPERS + ODD], TOPIC.slug)


def xml_text(text: str) -> str:
    return exports._NOT_XML.sub("", text)


# --- BibTeX ----------------------------------------------------------------------------------

_DECODE = get_default_latex_context_db().filter_context(keep_categories=["latex-base", "latex-extra",
                                                                         "advanced-symbols", "latex-ethuebung"])
_DECODE.add_context_category("exports-test", prepend=True, macros=[
    MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}"),
    MacroTextSpec("textasciicircum", "^"), MacroTextSpec("textasciitilde", "~"), MacroTextSpec("textquotedbl", '"')])


def decoded(latex_text: str) -> str:
    """What LaTeX prints for an escaped field (pylatexenc's LaTeX → text)."""
    return LatexNodes2Text(latex_context=_DECODE, math_mode="verbatim").latex_to_text(latex_text)


def authors_of(field: str) -> list[str]:
    """BibTeX's own split of an author list: " and " outside braces."""
    names, depth, start = [], 0, 0
    i = 0
    while i < len(field):
        depth += {"{": 1, "}": -1}.get(field[i], 0)
        if depth == 0 and field.startswith(" and ", i):
            names.append(field[start:i])
            start = i = i + 5
            continue
        i += 1
    return names + [field[start:]] if field else names


def test_bibtex_has_one_entry_per_paper_and_parses_with_two_libraries(frame):
    text = exports.bibtex(frame)
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    assert len(library.entries) == len(frame)
    assert len({entry.key for entry in library.entries}) == len(frame)
    assert [entry["eprint"] for entry in library.entries] == [exports.latex(i) for i in frame["id"]]
    assert len(pybtex_parse(text, "bibtex").entries) == len(frame)


def test_bibtex_titles_names_and_journals_print_as_written(frame):
    entries = {entry["eprint"]: entry for entry in bibtexparser.parse_string(exports.bibtex(frame)).entries}
    for row in frame.itertuples():
        entry = entries[exports.latex(row.id)]
        assert entry["title"].startswith("{") and entry["title"].endswith("}")  # capitals kept
        assert decoded(entry["title"]) == row.title and decoded(entry["abstract"] if "abstract" in entry.fields_dict else "") == row.abstract
        assert [decoded(name.strip("{}") if "," in name else name) for name in authors_of(entry["author"])] \
            == list(row.authors)
        if isinstance(row.journal_ref, str):
            assert entry.entry_type == "article" and decoded(entry["journal"]) == row.journal_ref
        else:
            assert entry.entry_type == "misc"


def test_bibtex_runs_no_command_and_keeps_arxiv_fields(frame):
    text = exports.bibtex(frame)
    assert "\\input" not in text and "\\write18" not in text and "\\textbf" not in text
    entries = {entry["eprint"]: entry for entry in bibtexparser.parse_string(text).entries}
    cvpr = entries["2602.99203"]
    assert cvpr.key == "muller2026mullers"
    assert cvpr["doi"] == "10.1109/CVPR.2026.00123" and cvpr["journal"] == "CVPR 2026"
    assert (cvpr["archivePrefix"], cvpr["primaryClass"], cvpr["url"], cvpr["year"]) == \
        ("arXiv", "cs.CV", "https://arxiv.org/abs/2602.99203", "2026")
    assert decoded(entries["2602.99202"]["doi"]) == "10.1000/x{y}\\z"  # braces: escaped, BibTeX would parse them
    odd_id = exports.latex("2602.99120<script>alert(5)</script>")
    assert "url" not in entries[odd_id]  # no link built from an id not of arXiv's form


def test_citation_keys_are_unique_and_stable_as_papers_arrive():
    older = paper({"id": "2602.00001", "title": "Gaussian splats", "authors": ["Ada Lovelace"]})
    newer = paper({"id": "2602.00002", "title": "Gaussian splats again", "authors": ["Ada Lovelace"]})
    assert exports.citation_keys(papers_frame([older], "t")) == ["lovelace2026gaussian"]
    assert exports.citation_keys(papers_frame([newer, older], "t")) == ["lovelace2026gaussianb", "lovelace2026gaussian"]
    nameless = paper({"id": "2602.00003", "title": "", "authors": ["李小龙"]})
    assert exports.citation_keys(papers_frame([nameless], "t")) == ["anonymous2026"]


def test_a_key_once_exported_names_the_same_paper_forever(tmp_path):
    from topic_report.store import Store
    older = paper({"id": "2602.00001", "title": "Gaussian splats", "authors": ["Ada Lovelace"]})
    newer = paper({"id": "2602.00002", "title": "Gaussian splats again", "authors": ["Ada Lovelace"]})
    with Store(tmp_path / "s.sqlite") as store:
        first = papers_frame([newer], "t")
        store.keep_citation_keys(dict(zip(first["id"], exports.citation_keys(first, store.citation_keys()), strict=False)))
        both = papers_frame([newer, older], "t")  # a paper with a lower id joins later
        assert exports.citation_keys(both, store.citation_keys()) == ["lovelace2026gaussian", "lovelace2026gaussianb"]
        entries = bibtexparser.parse_string(exports.bibtex(both, store.citation_keys())).entries
        assert {e.key: e["eprint"] for e in entries} == {"lovelace2026gaussian": "2602.00002",
                                                         "lovelace2026gaussianb": "2602.00001"}


# --- CSV and JSON ----------------------------------------------------------------------------


def test_csv_holds_every_paper_and_field_with_formulas_defused(frame):
    content = exports.export_files(TOPIC, frame)["hostile.csv"]
    assert content.startswith("\ufeff".encode())  # spreadsheets then read UTF-8
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(frame) and list(rows[0]) == list(frame.columns)
    for row, original in zip(rows, frame.itertuples(), strict=False):
        assert row["id"] == f"arXiv:{original.id}"
        assert row["title"] == exports.defuse_formula(original.title)
        assert row["authors"] == exports.defuse_formula("; ".join(original.authors))
        assert row["published"] == original.published.strftime("%Y-%m-%dT%H:%M:%SZ")
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"https://evil.example\",\"x\")" in cells and "'=cmd|' /C calc'!A0; @SUM(1+1); " \
        "+1 Plus; -1 Minus; \tTab" in cells


def test_json_holds_every_paper_and_field_exactly(frame):
    document = json.loads(exports.export_files(TOPIC, frame)["hostile.json"])
    assert (document["topic"], document["slug"], document["papers"]) == (TOPIC.name, "hostile", len(frame))
    assert document["fields"] == list(frame.columns)
    for record, original in zip(document["records"], frame.itertuples(), strict=False):
        assert set(record) == set(frame.columns)
        assert (record["id"], record["title"], record["authors"], record["abstract"], record["doi"]) == \
            (original.id, original.title, list(original.authors), original.abstract, exports._given(original.doi))
        assert record["published"] == original.published.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Atom ------------------------------------------------------------------------------------


def test_feed_parses_as_atom_with_the_newest_papers(frame):
    feed = feedparser.parse(exports.atom_feed(TOPIC, frame))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == min(exports.FEED_ENTRIES, len(frame))
    newest = frame.iloc[0]
    assert feed.entries[0].id == f"https://arxiv.org/abs/{newest.id}"
    assert feed.entries[0].title == newest.title
    assert feed.feed.id.startswith("urn:uuid:")
    assert {link.rel: link.href for link in feed.feed.links} == {"self": "hostile.atom", "alternate": "hostile.html"}


def test_feed_holds_hostile_text_as_text(frame):
    root = etree.fromstring(exports.atom_feed(TOPIC, frame))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    by_id = {paper_id: i for i, paper_id in enumerate(frame["id"])}
    assert len(entries) == len(frame)
    for entry in entries:
        title = entry.find("a:title", ns)
        href = entry.find("a:link[@rel='alternate']", ns).get("href")
        if "/abs/" not in href:  # the odd id: linked to the topic's page, a stable URN for id
            assert href == "hostile.html" and entry.find("a:id", ns).text.startswith("urn:uuid:")
            continue
        row = frame.iloc[by_id[href.rsplit("/abs/", 1)[1]]]
        assert title.get("type", "text") == "text" and len(title) == 0  # no child elements: text, not markup
        assert title.text == (xml_text(row.title) or "(untitled)")
        assert entry.find("a:summary", ns).text in (xml_text(row.abstract), None)
        assert [a.findtext("a:name", namespaces=ns) for a in entry.findall("a:author", ns)] == \
            [xml_text(name) for name in row.authors if xml_text(name).strip()]
        assert [c.get("term") for c in entry.findall("a:category", ns)] == list(row.categories)


def test_feed_links_are_absolute_with_a_site_url(frame):
    feed = feedparser.parse(exports.atom_feed(TOPIC, frame, "https://example.org/radar/"))
    assert feed.feed.id == "https://example.org/radar/hostile.atom"
    assert {link.rel: link.href for link in feed.feed.links} == {
        "self": "https://example.org/radar/hostile.atom", "alternate": "https://example.org/radar/hostile.html"}


def test_feed_of_a_topic_without_papers_is_valid_and_byte_stable():
    content = exports.atom_feed(TOPIC, papers_frame([], TOPIC.slug))
    feed = feedparser.parse(content)
    assert not feed.bozo and feed.version == "atom10" and feed.entries == []
    assert exports.atom_feed(TOPIC, papers_frame([], TOPIC.slug)) == content
    assert feed.feed.updated == "1991-08-14T00:00:00+00:00"


def test_every_per_topic_file_follows_one_pattern():
    names = topic_files.topic_file_names("nerf")
    assert names == ["nerf.html", "nerf.md", "nerf.atom", "nerf.bib", "nerf.ris", "nerf.csv", "nerf.json",
                     "nerf.details.json", "nerf_files"]
    assert set(exports.export_files(TOPIC, papers_frame([], TOPIC.slug))) <= set(topic_files.topic_file_names("hostile"))


@pytest.mark.parametrize("value, expected", [("https://example.org/radar", "https://example.org/radar/"),
                                             ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/"), ("", None)])
def test_site_url_setting(monkeypatch, value, expected):
    monkeypatch.setenv("TOPIC_REPORT_SITE_URL", value)
    assert settings.from_env().site_url == expected


@pytest.mark.parametrize("value", ["example.org/radar", "ftp://example.org/", "javascript:alert(1)",
                                   "https://example.org:port/", "https://exa mple.org/"])
def test_a_site_url_that_is_not_http_is_refused_in_one_line(monkeypatch, value):
    monkeypatch.setenv("TOPIC_REPORT_SITE_URL", value)
    with pytest.raises(TopicReportError, match=r"^TOPIC_REPORT_SITE_URL=.* is not an http\(s\) address"):
        settings.from_env()


def test_json_and_csv_carry_each_papers_relevance_score_and_why():
    topic = Topic(name="T", slug="t", terms=["zebra"], categories=["cs.CV"])
    papers = [paper(r) for r in PAPERS]
    ranked_frame = ranked(papers_frame(papers, topic.slug), topic)
    document = json.loads(exports.json_text(topic, ranked_frame))
    assert {"score", "why"} <= set(document["fields"])
    assert [(r["id"], r["score"], r["why"]) for r in document["records"]] == list(
        zip(ranked_frame["id"], ranked_frame["score"], ranked_frame["why"], strict=False))
    rows = list(csv.DictReader(io.StringIO(exports.csv_text(ranked_frame))))
    assert [row["why"] for row in rows] == [exports.defuse_formula(why) for why in ranked_frame["why"]]
    assert [float(row["score"]) for row in rows] == list(ranked_frame["score"])


def test_csv_ids_stay_text_and_dois_are_verbatim_in_bibtex():
    record = {"id": "2606.31050", "title": "NeRF in 3D", "authors": ["A"], "doi": "10.1007/978-3-030_24#5%"}
    exported = papers_frame([paper(record)], "t")
    read = pd.read_csv(io.StringIO(exports.csv_text(exported)))
    assert read["id"].tolist() == ["arXiv:2606.31050"]
    (entry,) = bibtexparser.parse_string(exports.bibtex(exported)).entries
    assert entry["doi"] == "10.1007/978-3-030_24#5%" and entry["title"] == "{NeRF in 3D}"


# --- RIS, the feed of every topic, the list of feeds ---------------------------------------------

def test_ris_holds_one_record_per_paper_each_value_on_its_line(frame):
    text = exports.ris(frame)
    records = rispy.loads(text)
    assert [r["accession_number"] for r in records] == [f"arXiv:{paper_id}" for paper_id in frame["id"]]
    for record, row in zip(records, frame.itertuples(), strict=False):
        assert record["title"] == exports.one_line(row.title)
        assert record.get("authors", []) == [name for name in map(exports.one_line, row.authors) if name]
        assert record["type_of_reference"] == ("JOUR" if isinstance(row.journal_ref, str) else "UNPB")
        assert record.get("urls") == ([exports.abs_url(row.id)] if exports.abs_url(row.id) else None)
    # A line break in a title cannot end the record or start a field of its own.
    forged = papers_frame([paper({"id": "2602.99301", "title": "T\nER  - \nTY  - JOUR\nTI  - forged",
                                  "authors": ["A"]})], "t")
    assert [r["title"] for r in rispy.loads(exports.ris(forged))] == ["T ER - TY - JOUR TI - forged"]


def test_the_feed_of_every_topic_and_the_list_of_feeds(frame):
    other = Topic(name="Other", slug="other", terms=["x"])
    newer = papers_frame([paper({"id": "2602.99401", "title": "Newest", "authors": ["B"],
                                 "published": "2026-03-01T00:00:00Z"}), paper(ODD[0])], "other")
    files = exports.site_files([TOPIC, other], [frame, newer], "https://example.org/radar/")
    feed = feedparser.parse(files["all.atom"])
    assert not feed.bozo and feed.feed.id == "https://example.org/radar/all.atom"
    # Newest first, a paper of two topics once.
    ids = [entry.id for entry in feed.entries]
    assert feed.entries[0].title == "Newest" and len(ids) == len(set(ids)) == len(set(frame["id"])) + 1
    listing = listparser.parse(files["feeds.opml"])
    assert not listing.bozo
    assert [(f.title, f.url) for f in listing.feeds] == [
        ("Every topic", "https://example.org/radar/all.atom"), (TOPIC.name, "https://example.org/radar/hostile.atom"),
        ("Other", "https://example.org/radar/other.atom")]


def test_the_feed_of_no_topic_is_valid():
    assert not feedparser.parse(exports.site_files([], [])["all.atom"]).bozo


def test_coins_carry_each_paper_s_citation_as_text(frame):
    from urllib.parse import parse_qs

    for row in frame.itertuples():
        (span,) = lxml.html.fragment_fromstring(str(exports.coins(row)), create_parent="div")
        assert span.get("class") == "Z3988" and span.text is None
        fields = parse_qs(span.get("title"), keep_blank_values=True)
        assert fields["ctx_ver"] == ["Z39.88-2004"] and fields["rft.genre"] == ["preprint"]
        assert fields["rft.atitle"] == [exports.one_line(row.title)]
        assert fields.get("rft.au", []) == [name for name in map(exports.one_line, row.authors) if name]
        assert fields["rft.date"] == [f"{row.published:%Y-%m-%d}"]
        if exports.abs_url(row.id):
            assert exports.abs_url(row.id) in fields["rft_id"]


def test_keeping_keys_never_waits_for_a_writer_nor_fails_the_build(tmp_path):
    import sqlite3

    from topic_report.store import Store
    with Store(tmp_path / "s.sqlite") as store:
        writer = sqlite3.connect(tmp_path / "s.sqlite", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # a fetch mid-transaction
        assert store.keep_citation_keys({"2602.00001": "lovelace2026gaussian"}) is False
        writer.execute("ROLLBACK")
        writer.close()
        assert store.keep_citation_keys({"2602.00001": "lovelace2026gaussian"}) is True
        assert store.citation_keys() == {"2602.00001": "lovelace2026gaussian"}
