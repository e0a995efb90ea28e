"""The interactive table of every paper, and the HTML pieces of a paper shared with the page's
"What is new" section: DataFrame (topic_report.frame schema) → offline itables HTML.

Every piece of text from arXiv is escaped in Python before it reaches the page, and links are
built only from ids of arXiv's own form and, in comments, from http(s) addresses.

The table stays light enough for ten thousand papers with their abstracts: its rows carry plain
escaped text (id, title, authors, date, categories) and the abstracts travel once, as one JSON
block beside the table; small render functions build each shown row's markup (the title linked
to arXiv, a folded details block with the PDF link, every author, the categories with their names
and the abstract) and give DataTables' search the text of all of them, so the search box finds a
paper by any word of its title or abstract, any author or any category (code or name). On a narrow
screen the table shows title and date; the rest is in the title's details, a tap away.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable

import pandas as pd
from itables import JavascriptFunction, to_html_datatable
from linkify_it import LinkifyIt

from topic_report.arxiv.links import abs_url, pdf_url
from topic_report.digest import close_bidi
from topic_report.store import ARXIV_ID
from topic_report.taxonomy import category_name, is_category, labelled
from topic_report.topics import Words

TABLE_AUTHORS = 3
COLUMNS = ["id", "Title", "Authors", "Submitted", "Category", "Score", "Categories", "New"]
ID, TITLE, AUTHORS, SUBMITTED, CATEGORY, SCORE, CATEGORIES, NEW = range(len(COLUMNS))
TABLE_ID = "papers"  # one table per page; a fixed id keeps unchanged pages unchanged
DETAILS_ID = f"{TABLE_ID}-details"  # the JSON block of abstracts, authors, reasons and category names
LINK_SCHEMES = ("http:", "https:")

# The side data (abstracts, category names), parsed once when a row first needs it.
_DETAILS = f"""const details = window.topicReportDetails || (window.topicReportDetails =
        JSON.parse(document.getElementById('{DETAILS_ID}').textContent));"""
_CATEGORY_LIST = """const categories = row[%(categories)d] ? row[%(categories)d].split(' ') : [];
    const named = categories.map((code) => details.names[code] ? code + ' (' + details.names[code] + ')' : code);""" % {
    "categories": CATEGORIES}

# The title cell: for display, the title linked to arXiv and the paper's folded details (why it
# scores what it does, PDF, authors, categories, abstract); for the search, the arXiv id, the title,
# the abstract, the authors and the categories with their names.
RENDER_TITLE = JavascriptFunction("""function (title, type, row, meta) {
    // Sorted as read: TeX commands and markup ($, braces, ^, _) left out, so "$E^{3}$Gen" sorts as E3Gen.
    if (type === 'sort') return title.replace(/\\\\[A-Za-z]+/g, '').replace(/[$\\\\{}^_]/g, '').trim();
    if (type !== 'display' && type !== 'filter') return title;
    %(details)s
    %(categories)s
    const authors = details.authors[meta.row].join(', ');
    const abstract = details.abstracts[meta.row];
    const id = row[%(id)d], shown = title || '(untitled)';
    if (type === 'filter') return [id, title, abstract, authors, named.join(' ')].join(' ');
    return (id ? '<a href="%(abs)s' + id + '">' + shown + '</a>' : shown)
        + '<details class="paper-more"><summary>why, abstract, authors, PDF</summary>'
        + '<p class="paper-why">' + details.why[meta.row] + '</p>'
        + (id ? '<a class="pdf" href="%(pdf)s' + id + '">PDF</a>' : '')
        + '<p class="paper-authors">' + authors + '</p><p class="paper-categories">' + named.join(', ')
        + '</p><p class="paper-abstract">' + abstract + '</p></details>';
}""" % {"details": _DETAILS, "categories": _CATEGORY_LIST, "id": ID, "abs": abs_url(""), "pdf": pdf_url("")})

# The authors cell: the first few and how many more; all of them for the search; the first to sort.
RENDER_AUTHORS = JavascriptFunction("""function (empty, type, row, meta) {
    %(details)s
    const names = details.authors[meta.row];
    if (type === 'sort' || type === 'type') return names[0] || '';
    if (type !== 'display') return names.join(', ');
    const more = names.length - %(shown)d;
    return names.slice(0, %(shown)d).join(', ') + (more > 0 ? ' +' + more + ' more' : '');
}""" % {"details": _DETAILS, "shown": TABLE_AUTHORS})

# Wires the date and category filters (rendered by `filters`) to the table, once, when it first
# draws. itables only passes `initComplete` on in its own header mode, whose sorting reacts to the
# arrow alone; `drawCallback` reaches DataTables in any mode.
WIRE_FILTERS = JavascriptFunction("""function (settings) {
    if (settings.topicReportFilters) return;
    settings.topicReportFilters = true;
    const api = this.api();
    const field = (name) => document.getElementById('%(id)s-' + name);
    const from = field('from'), to = field('to'), category = field('category'), fresh = field('new');
    if (!from || !to || !category) return;
    $.fn.dataTable.ext.search.push(function (searched, searchData, index, row) {
        if (searched.nTable !== settings.nTable) return true;
        const day = row[%(submitted)d];
        if (from.value && day < from.value) return false;
        if (to.value && day > to.value) return false;
        if (fresh && fresh.checked && !row[%(new)d]) return false;
        return !category.value || row[%(categories)d].split(' ').includes(category.value);
    });
    [from, to, category, fresh].forEach((input) => input && input.addEventListener('input', () => api.draw()));
    // An address ending in #paper-<id> (the site search's entry of a paper) shows that paper.
    const showWanted = () => {
        const wanted = /^#paper-(.+)$/.exec(location.hash);
        if (!wanted) return;
        api.search(decodeURIComponent(wanted[1])).draw();
        (settings.nTableWrapper || settings.nTable).scrollIntoView();  // the search box too: why one row
    };
    window.addEventListener('hashchange', showWanted);
    showWanted();
}""" % {"id": TABLE_ID, "submitted": SUBMITTED, "categories": CATEGORIES, "new": NEW})

OPTIONS = {
    "table_id": TABLE_ID,
    "allow_html": True,     # the cells hold text we escaped; the render functions add our markup
    "maxBytes": 0,          # every paper, never itables' first-and-last-rows preview
    "showIndex": False,
    "classes": "display compact",
    "style": "width:100%;table-layout:auto;caption-side:bottom",
    "pageLength": 25,
    "lengthMenu": [10, 25, 100, 500],
    "order": [],            # the frame's order: newest first
    "deferRender": True,    # rows are built when shown, so a 10,000-paper table starts at once
    "autoWidth": False,     # the browser lays the columns out, so they follow the screen's width
    # A click anywhere on a heading sorts (itables' default since 2.9 sorts on the arrow alone).
    "text_in_header_can_be_selected": False,
    "language": {"searchPlaceholder": "title, abstract, author, category, arXiv id"},
    "columnDefs": [
        {"targets": [ID, CATEGORIES, NEW], "visible": False, "searchable": False},
        # Highest first on the first click; ties newest first.
        {"targets": [SCORE], "className": "dt-nowrap wide-only", "orderSequence": ["desc", "asc"],
         "orderData": [SCORE, SUBMITTED]},
        {"targets": [TITLE], "render": RENDER_TITLE},
        {"targets": [AUTHORS], "render": RENDER_AUTHORS, "className": "wide-only"},
        {"targets": [SUBMITTED], "className": "dt-nowrap"},
        {"targets": [CATEGORY], "className": "dt-nowrap wide-only"},
    ],
    "drawCallback": WIRE_FILTERS,
}

_linkify = LinkifyIt()


def abs_link(paper_id: str, title: str) -> str:
    """The escaped title (or "(untitled)"), linked to the paper's arXiv page when the id is a valid arXiv id."""
    text = html.escape(close_bidi(title)) or "(untitled)"
    if not ARXIV_ID.fullmatch(paper_id):
        return text
    return f'<a href="{abs_url(paper_id)}">{text}</a>'


def pdf_link(paper_id: str) -> str:
    """A link to the paper's PDF on arXiv, or nothing for an id not of arXiv's form."""
    return f'<a class="pdf" href="{pdf_url(paper_id)}">PDF</a>' if ARXIV_ID.fullmatch(paper_id) else ""


def all_authors(authors: list[str]) -> str:
    return ", ".join(html.escape(close_bidi(name)) for name in authors)


def category_badges(categories: Iterable[str]) -> str:
    """Each category code, escaped, with its name as a tooltip and in the text (so search finds it)."""
    return ", ".join(
        f'<abbr title="{html.escape(category_name(code) or code)}">{html.escape(code)}</abbr>'
        + (f" ({html.escape(category_name(code))})" if category_name(code) else "")
        for code in categories)


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


def paper_categories(paper) -> str:
    """The paper's arXiv categories (primary first), each with its name; ACM and MSC classes left out."""
    return category_badges([code for code in paper.categories if is_category(code)] or [paper.primary_category])


def comment_of(paper) -> str:
    """The paper's comment as escaped, linked HTML, or "" (the frame holds None or NaN for none)."""
    return f'<p class="paper-comment">{linkified(paper.comment)}</p>' if isinstance(paper.comment, str) else ""


def _text(text: str) -> str:
    """Escaped for an HTML text node, its bidi overrides closed."""
    return html.escape(close_bidi(text), quote=False)


def table_frame(frame: pd.DataFrame, new: set[str] | None = None) -> pd.DataFrame:
    """One row per paper, in the frame's order (newest first): the arXiv id (only of arXiv's own
    form, else empty), escaped text, the relevance score (topic_report.ranking) and whether the paper
    is among the `new` ids; the authors' cells stay empty (their names are in `details_block`,
    where JSON is lighter than in itables' doubly encoded rows)."""
    return pd.DataFrame(
        {
            "id": [i if ARXIV_ID.fullmatch(i) else "" for i in frame["id"]],
            "Title": [_text(t) for t in frame["title"]],
            "Authors": "",
            "Submitted": frame["published"].dt.strftime("%Y-%m-%d"),
            "Category": [html.escape(c) for c in frame["primary_category"]],
            "Score": frame["score"].round(1).to_numpy(),
            "Categories": [" ".join(html.escape(c) for c in codes if is_category(c)) for codes in frame["categories"]],
            "New": [int(i in (new or ())) for i in frame["id"]],
        },
        columns=COLUMNS,
    ).reset_index(drop=True)


def details_block(frame: pd.DataFrame) -> str:
    """The abstracts, authors and reasons of the score (escaped, row by row) and the names of the
    categories present, as one JSON block; escaped text holds no `<`, so the block cannot end early."""
    codes = sorted({code for codes in frame["categories"] for code in codes if is_category(code)})
    details = {"abstracts": [_text(a) for a in frame["abstract"]],
               "authors": [[_text(name) for name in names] for names in frame["authors"]],
               "why": [_text(f"{why} (score {score:g})") for why, score in zip(frame["why"], frame["score"], strict=False)],
               "names": {html.escape(code): html.escape(category_name(code)) for code in codes if category_name(code)}}
    return (f'<script type="application/json" id="{DETAILS_ID}">'
            f'{json.dumps(details, ensure_ascii=False, separators=(",", ":"))}</script>')


def filters(frame: pd.DataFrame, new: set[str] | None = None) -> str:
    """The table's date-range and category filters (wired by WIRE_FILTERS): categories by how many
    papers list them, with their names; after an earlier build, "new since the last build"."""
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


# A site's shared copy of the library (`library` below): a relative address of a .js file, beside
# which its .css is (itables' own layout, `dt_url`); "./" first, as a module import needs.
SHARED_LIBRARY = re.compile(r"\./(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*\.js")
# Browsers refuse module scripts to a page opened from disk (file://, origin "null"): it says so.
SERVE_NOTE = """<p class="serve-note" id="%(id)s-serve-note" hidden>This table needs the site served over
HTTP: run <code>make serve</code> (or <code>python3 -m http.server --directory _site</code>) and open
<a href="http://127.0.0.1:8000/">http://127.0.0.1:8000/</a>. Opened from disk, browsers refuse its scripts.</p>
<script>if (location.protocol === 'file:') document.getElementById('%(id)s-serve-note').hidden = false;</script>""" % {
    "id": TABLE_ID}


def papers_table(frame: pd.DataFrame, new: set[str] | None = None, library: str | None = None) -> str:
    """The searchable, sortable, filterable table of every paper (a ranked frame: topic_report.ranking),
    as HTML for an offline page; `new`: the ids new since the previous build, None without one. Its
    library from the notebook's `init_tables` output, or from the site's shared copy at `library`."""
    source = {"connected": True, "dt_url": library} if library else {"connected": False}
    return (filters(frame, new) + details_block(frame) + (SERVE_NOTE if library else "")
            + to_html_datatable(table_frame(frame, new), **OPTIONS, **source))
