"""The interactive table of every paper, and the marked text a paper's card shares with it (terms
highlighted, comments' addresses linked): DataFrame (topic_report.frame schema) → HTML for an
offline page.

Every piece of text from arXiv is escaped in Python before it reaches the page, and links are
built only from ids of arXiv's own form and, in comments, from http(s) addresses.

The table's behaviour is assets/papers-table.js (with assets/papers-table.css), driving DataTables:
on a site, its shared copy of DataTables core with jQuery (assets/datatables.js, helpers/site.py);
in a notebook run by hand, itables' offline bundle. A page carries what its first screen needs: the rows as compact JSON
(`table_rows`: id, title, first authors, date, categories, score, new or not) and the category
names. The abstracts, full author lists and the reasons of each score (`table_details`) are, on a
site, a file the kernel writes and the build publishes beside the page (`<slug>.details.json`),
fetched when a reader opens a row or uses the search box; a notebook run by hand keeps them inline.
The search then finds a paper by any word of its title or abstract, any author or any category
(code or name). On a narrow screen the table shows title and date; the rest is in the title's
details, a tap away.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
from linkify_it import LinkifyIt

from topic_report import tex, write_atomically
from topic_report.arxiv.links import abs_url, pdf_url
from topic_report.digest import close_bidi
from topic_report.site import TABLE_ASSETS, table_asset
from topic_report.store import ARXIV_ID
from topic_report.taxonomy import category_name, is_category, labelled
from topic_report.topic_files import DETAILS_BLOCK
from topic_report.topics import Words

TABLE_AUTHORS = 3  # the authors a row shows (papers-table.js: SHOWN_AUTHORS); every one is in the details
# One table per page; a fixed id keeps unchanged pages unchanged. papers-table.js finds the
# table's data by it: `<id>-rows`, and `<id>-details` (DETAILS_BLOCK: the details, or their file's address).
TABLE_ID = DETAILS_BLOCK.removesuffix("-details")
# What each row carries, in order (papers-table.js reads them by these names): `text` is the
# title's plain reading where it differs from its HTML (else null), escaped like every text (the
# table's search reads it as HTML), `authors` the first few,
# `authors_count` how many there are, `new` 1 for a paper new since the last build.
ROW_FIELDS = ("id", "title", "text", "authors", "authors_count", "submitted", "category", "score", "categories", "new")
LINK_SCHEMES = ("http:", "https:")

_linkify = LinkifyIt()


def linkified(text: str) -> str:
    """Escaped text whose http(s) addresses are links (code, project pages); no other scheme links."""
    text = close_bidi(text)
    pieces, last = [], 0
    for match in _linkify.match(text) or []:
        if not match.url.lower().startswith(LINK_SCHEMES):
            continue
        pieces.append(html.escape(text[last:match.index]))
        pieces.append(f'<a href="{html.escape(match.url)}" rel="nofollow noopener">{html.escape(match.text)}</a>')
        last = match.last_index
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


def highlighted(text: str, terms: Iterable[str]) -> str:
    """Escaped text with each of the terms marked wherever it stands as a phrase, as the topic
    matches it (topics.Words: "3D reconstruction" marks "3D-Reconstruction"). Marks are placed on the
    text and each piece escaped on its own, so a mark never splits an entity and markup stays text."""
    text = close_bidi(text)
    words = Words(text)
    spans = sorted(span for term in terms for span in words.find(term))
    pieces, last = [], 0
    for start, end in spans:
        if end <= last:
            continue  # inside a mark already (a shorter term within a longer one)
        start = max(start, last)
        pieces += [html.escape(text[last:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        last = end
    return "".join(pieces) + html.escape(text[last:])


def _text(text: str) -> str:
    """Escaped for an HTML text node, its bidi overrides closed."""
    return html.escape(close_bidi(text), quote=False)


def title_cells(title: str) -> tuple[str, str]:
    """A title as its cell shows it (safe HTML, its TeX as MathML) and as it reads (plain text, to
    sort and search: "$E^{3}$Gen" sorts as E3Gen)."""
    return tex.html_of(title, _text), tex.plain(close_bidi(title)).strip()


def table_rows(frame: pd.DataFrame, new: set[str] | None = None) -> dict:
    """The page's data of the table: one compact row per paper (ROW_FIELDS), in the frame's order
    (newest first), with escaped text; the arXiv id only of arXiv's own form, else empty; and the
    names of the categories present. Links' prefixes come along, so the script builds no address."""
    new = new or set()
    rows = []
    for paper_id, title, authors, day, primary, score, codes in zip(
            frame["id"], frame["title"], frame["authors"], frame["published"].dt.strftime("%Y-%m-%d"),
            frame["primary_category"], frame["score"].round(1), frame["categories"], strict=True):
        shown, text = title_cells(title)
        rows.append([paper_id if ARXIV_ID.fullmatch(paper_id) else "", shown,
                     None if text == html.unescape(shown) else _text(text),
                     [_text(name) for name in authors[:TABLE_AUTHORS]], len(authors), day, html.escape(primary),
                     float(score), " ".join(html.escape(c) for c in codes if is_category(c)), int(paper_id in new)])
    codes = sorted({code for codes in frame["categories"] for code in codes if is_category(code)})
    return {"fields": ROW_FIELDS, "abs": abs_url(""), "pdf": pdf_url(""),
            "names": {html.escape(code): html.escape(category_name(code)) for code in codes if category_name(code)},
            "rows": rows}


def _details_columns(frame: pd.DataFrame) -> dict[str, Iterator]:
    """What a row shows when opened, and what the search finds beyond the first screen: each
    paper's abstract, every author and the reasons of its score, escaped, in the rows' order."""
    return {"abstracts": (tex.html_of(abstract, _text) for abstract in frame["abstract"]),
            "authors": ([_text(name) for name in names] for names in frame["authors"]),
            "why": (_text(f"{why} (score {score:g})") for why, score in zip(frame["why"], frame["score"], strict=True))}


def table_details(frame: pd.DataFrame) -> dict:
    """The table's details (`_details_columns`), each a list."""
    return {name: list(column) for name, column in _details_columns(frame).items()}


def _json_text(data) -> str:
    """Compact JSON that holds no `<` (JSON's \\u003c instead: a title's MathML included)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _details_json(frame: pd.DataFrame) -> Iterator[str]:
    """`_json_text(table_details(frame))`, a paper's piece at a time: the details of a large topic
    are never whole in memory."""
    for index, (name, column) in enumerate(_details_columns(frame).items()):
        yield ("{" if index == 0 else "],") + _json_text(name) + ":["
        for row, item in enumerate(column):
            yield ("," if row else "") + _json_text(item)
    yield "]}"


def json_block(block_id: str, data: dict) -> str:
    """Data as a JSON script element, which cannot end early: its text holds no `<`."""
    return f'<script type="application/json" id="{block_id}">{_json_text(data)}</script>'


def details_block(frame: pd.DataFrame, details_file: Path | None) -> str:
    """The table's details in the page, or written into `details_file` (a site's page: beside it
    once published) with only its address in the page, the content's digest appended so that no
    cached copy of another build's details is read: the page's first load carries only its rows."""
    if details_file is None:
        return json_block(DETAILS_BLOCK, table_details(frame))
    digest = hashlib.sha256()

    def digested(pieces: Iterator[str]) -> Iterator[bytes]:
        for piece in pieces:
            digest.update(data := piece.encode("utf-8"))
            yield data

    write_atomically(details_file, digested(_details_json(frame)))
    address = f"{details_file.name}?v={digest.hexdigest()[:12]}"
    return f'<script type="application/json" id="{DETAILS_BLOCK}" data-src="{html.escape(address)}"></script>'


def filters(frame: pd.DataFrame, new: set[str] | None = None) -> str:
    """The table's date-range and category filters (wired by papers-table.js): categories by how
    many papers list them, with their names; after an earlier build, "new since the last build"."""
    days = frame["published"].dt.strftime("%Y-%m-%d")
    counts = frame["categories"].explode().dropna()
    counts = counts[counts.map(is_category)].value_counts()
    options = "".join(f'<option value="{html.escape(code)}">{html.escape(labelled(code))} ({count:,})</option>'
                      for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    first, last = days.min(), days.max()
    return (
        f'<div class="table-filters">'
        f'<label>Submitted from <input type="date" id="{TABLE_ID}-from" min="{first}" max="{last}"></label>'
        f'<label>to <input type="date" id="{TABLE_ID}-to" min="{first}" max="{last}"></label>'
        f'<label>Category <select id="{TABLE_ID}-category"><option value="">any</option>{options}</select></label>'
        + (f'<label><input type="checkbox" id="{TABLE_ID}-new"> only the {len(new):,} new since the last build</label>'
           if new is not None else "")
        + '</div>')


# A site's shared copy of the library (`library` below, site.table_library): a relative address of
# a .js file, beside which its .css is; "./" first, as a module import needs.
SHARED_LIBRARY = re.compile(r"\./(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*\.js")
# Browsers refuse module scripts and fetches to a page opened from disk (file://, origin "null"): it says so.
SERVE_NOTE = """<p class="serve-note" id="%(id)s-serve-note" hidden>This table needs the site served over
HTTP: run <code>make serve</code> (or <code>python3 -m http.server --directory _site</code>) and open
<a href="http://127.0.0.1:8000/">http://127.0.0.1:8000/</a>. Opened from disk, browsers refuse its scripts.</p>
<script>if (location.protocol === 'file:') document.getElementById('%(id)s-serve-note').hidden = false;</script>""" % {
    "id": TABLE_ID}
# Shown by papers-table.js when the details file does not arrive (a site missing it, a server refusing it).
PROBLEM_NOTE = (f'<p class="papers-problem" id="{TABLE_ID}-problem" hidden>The abstracts and full author lists '
                f'could not be loaded: the search finds titles, first authors and categories only. Build the site '
                f'again, or serve it over HTTP (<code>make serve</code>).</p>')
# Quarto leaves the table alone (no Bootstrap table classes of its own on it).
_NO_QUARTO_TABLE = "<!--| quarto-html-table-processing: none -->"


def papers_table(frame: pd.DataFrame, new: set[str] | None = None, library: str | None = None,
                 details_file: Path | None = None) -> str:
    """The searchable, sortable, filterable table of every paper (a ranked frame: topic_report.ranking),
    as HTML for an offline page; `new`: the ids new since the previous build, None without one.
    On a site (`library`: its shared copy of the table library, relative to the page) the page links
    the library and the site's copy of the table's script and styles (`site.table_asset`); run by
    hand, it carries them, and takes the library from the notebook's `init_tables` output. The
    details go into `details_file` where one is given (`details_block`)."""
    data = json_block(f"{TABLE_ID}-rows", table_rows(frame, new)) + details_block(frame, details_file)
    table = f'<table id="{TABLE_ID}" class="papers-table display compact"%s></table>'
    if library:
        # The script imports the library when it runs: preloaded, both arrive together.
        return (f'<link rel="modulepreload" href="{html.escape(library)}">'
                f'<link rel="stylesheet" href="{html.escape(library.removesuffix(".js"))}.css">'
                f'<link rel="stylesheet" href="{table_asset("papers-table.css")}">'
                + filters(frame, new) + SERVE_NOTE + PROBLEM_NOTE + _NO_QUARTO_TABLE
                + table % f' data-library="{html.escape(library)}"' + data
                + f'<script type="module" src="{table_asset("papers-table.js")}"></script>')
    from itables.javascript import _itables_ready_event, _itables_underscore_version  # the names its init cell defines

    css, script = ((TABLE_ASSETS / name).read_text(encoding="utf-8") for name in ("papers-table.css", "papers-table.js"))
    return (f"<style>{css}</style>" + filters(frame, new) + PROBLEM_NOTE + _NO_QUARTO_TABLE
            + table % f' data-library-global="{_itables_underscore_version()}" data-library-ready="{_itables_ready_event()}"'
            + data + f'<script type="module">{script}</script>')
