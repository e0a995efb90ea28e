"""The interactive table of every paper, and the HTML of one paper's details (shared with the page's
"What is new" section): DataFrame (helpers.frame schema) → offline itables HTML.

itables renders cell content as HTML here (titles are links, details fold), so every piece of text
from arXiv is escaped before it goes in, and links are built only from ids of arXiv's own form and,
in comments, from http(s) addresses.

What the search box finds: the title cell carries the paper's details (every author, every
category with its name, the comment and the abstract) inside a folded `<details>`, so DataTables'
search, which reads a cell's text, covers them all without a second copy of the abstract. A hidden
column of category codes serves the category filter. On a narrow screen the table shows title and
date; authors and categories are in the title's details, a tap away.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import pandas as pd
from itables import JavascriptFunction, to_html_datatable
from linkify_it import LinkifyIt

from helpers.digest import close_bidi
from helpers.store import ARXIV_ID
from helpers.taxonomy import category_name, is_category, labelled

TABLE_AUTHORS = 3
COLUMNS = ["Title", "Authors", "Submitted", "Category", "Categories"]
SUBMITTED, CATEGORIES = COLUMNS.index("Submitted"), COLUMNS.index("Categories")
TABLE_ID = "papers"  # one table per page; a fixed id keeps unchanged pages unchanged
LINK_SCHEMES = ("http:", "https:")

# Wires the date and category filters (rendered by `filters`) to the table, once, when it first
# draws. itables only passes `initComplete` on in its own header mode, whose sorting reacts to the
# arrow alone; `drawCallback` reaches DataTables in any mode.
WIRE_FILTERS = JavascriptFunction("""function (settings) {
    if (settings.topicReportFilters) return;
    settings.topicReportFilters = true;
    const api = this.api();
    const field = (name) => document.getElementById('%(id)s-' + name);
    const from = field('from'), to = field('to'), category = field('category');
    if (!from || !to || !category) return;
    $.fn.dataTable.ext.search.push(function (searched, searchData, index, row) {
        if (searched.nTable !== settings.nTable) return true;
        const day = row[%(submitted)d];
        if (from.value && day < from.value) return false;
        if (to.value && day > to.value) return false;
        return !category.value || row[%(categories)d].split(' ').includes(category.value);
    });
    [from, to, category].forEach((input) => input.addEventListener('input', () => api.draw()));
}""" % {"id": TABLE_ID, "submitted": SUBMITTED, "categories": CATEGORIES})

OPTIONS = {
    "table_id": TABLE_ID,
    "allow_html": True,     # our own escaped markup: links and folded details
    "connected": False,     # the library comes from the page (init_notebook_mode(connected=False))
    "maxBytes": 0,          # every paper, never itables' first-and-last-rows preview
    "showIndex": False,
    "classes": "display compact",
    "style": "width:100%;table-layout:auto;caption-side:bottom",
    "pageLength": 25,
    "lengthMenu": [10, 25, 100, 500],
    "order": [],            # the frame's order: newest first
    "deferRender": True,    # rows are built when shown, so a 10,000-paper table starts at once
    # A click anywhere on a heading sorts (itables' default since 2.9 sorts on the arrow alone).
    "text_in_header_can_be_selected": False,
    "language": {"searchPlaceholder": "title, abstract, author, category"},
    "autoWidth": False,     # the browser lays the columns out, so they follow the screen's width
    "columnDefs": [
        {"targets": [SUBMITTED], "className": "dt-nowrap"},
        {"targets": [COLUMNS.index("Authors")], "className": "wide-only"},
        {"targets": [COLUMNS.index("Category")], "className": "dt-nowrap wide-only"},
        {"targets": [CATEGORIES], "visible": False, "searchable": False},
    ],
    "drawCallback": WIRE_FILTERS,
}

_linkify = LinkifyIt()


def abs_link(paper_id: str, title: str) -> str:
    """The escaped title (or "(untitled)"), linked to the paper's arXiv page when the id is a valid arXiv id."""
    text = html.escape(close_bidi(title)) or "(untitled)"
    if not ARXIV_ID.fullmatch(paper_id):
        return text
    return f'<a href="https://arxiv.org/abs/{paper_id}">{text}</a>'


def pdf_link(paper_id: str) -> str:
    """A link to the paper's PDF on arXiv, or nothing for an id not of arXiv's form."""
    return f'<a class="pdf" href="https://arxiv.org/pdf/{paper_id}">PDF</a>' if ARXIV_ID.fullmatch(paper_id) else ""


def short_authors(authors: list[str]) -> str:
    """The first few authors, escaped, each closing its own bidi overrides (so a U+202E in one name
    cannot reverse the next); longer lists end with how many more there are."""
    shown = ", ".join(html.escape(close_bidi(name)) for name in authors[:TABLE_AUTHORS])
    hidden = len(authors) - TABLE_AUTHORS
    return f"{shown} +{hidden} more" if hidden > 0 else shown


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
    """Escaped text with each of the terms marked wherever it stands as a phrase (any case).
    The text is escaped first and the escaped terms are searched in it, so a mark never splits an
    entity and markup in the text stays text."""
    escaped = html.escape(close_bidi(text))
    phrases = sorted({html.escape(term) for term in terms if term.strip()}, key=len, reverse=True)
    if not phrases:
        return escaped
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(p) for p in phrases) + r")(?!\w)", re.IGNORECASE)
    return pattern.sub(r"<mark>\1</mark>", escaped)


def paper_categories(paper) -> str:
    """The paper's arXiv categories (primary first), each with its name; ACM and MSC classes left out."""
    return category_badges([code for code in paper.categories if is_category(code)] or [paper.primary_category])


def comment_of(paper) -> str:
    """The paper's comment as escaped, linked HTML, or "" (the frame holds None or NaN for none)."""
    return f'<p class="paper-comment">{linkified(paper.comment)}</p>' if isinstance(paper.comment, str) else ""


def paper_details(paper, terms: Iterable[str] = ()) -> str:
    """What a reader opens a paper's details for: every author, the categories with their names,
    the comment (venue, code links) and the abstract, the terms marked in it."""
    parts = [f'<p class="paper-authors">{all_authors(paper.authors)}</p>',
             f'<p class="paper-categories">{paper_categories(paper)}</p>',
             comment_of(paper), f'<p class="paper-abstract">{highlighted(paper.abstract, terms)}</p>']
    return "".join(parts)


def table_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per paper, every cell escaped HTML, in the frame's order (newest first)."""
    return pd.DataFrame(
        {
            "Title": [f'{abs_link(p.id, p.title)}<details class="paper-more"><summary>abstract, authors, '
                      f'PDF</summary>{pdf_link(p.id)}{paper_details(p)}</details>' for p in frame.itertuples()],
            "Authors": [short_authors(a) for a in frame["authors"]],
            "Submitted": frame["published"].dt.strftime("%Y-%m-%d"),
            "Category": [f'<abbr title="{html.escape(category_name(c) or c)}">{html.escape(c)}</abbr>'
                         for c in frame["primary_category"]],
            "Categories": [" ".join(html.escape(c) for c in codes) for codes in frame["categories"]],
        },
        columns=COLUMNS,
    ).reset_index(drop=True)


def filters(frame: pd.DataFrame) -> str:
    """The table's date-range and category filters (wired by WIRE_FILTERS): categories by how many
    papers list them, with their names."""
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
        f'</div>')


def papers_table(frame: pd.DataFrame) -> str:
    """The searchable, sortable, filterable table of every paper, as HTML for an offline notebook page."""
    return filters(frame) + to_html_datatable(table_frame(frame), **OPTIONS)
