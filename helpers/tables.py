"""The interactive table of every paper: DataFrame (helpers.frame schema) → offline itables HTML.

itables renders cell content as HTML here (the titles are links), so every piece of text from
arXiv is escaped before it goes in, and links are built only from ids of arXiv's own form.
The table stays light for large topics: no abstracts, author lists shortened.
"""

from __future__ import annotations

import html

import pandas as pd
from itables import to_html_datatable

from helpers.digest import close_bidi
from helpers.store import ARXIV_ID

TABLE_AUTHORS = 3
COLUMNS = ["Title", "Authors", "Submitted", "Category"]
OPTIONS = {
    "table_id": "papers",   # one table per page; a fixed id keeps unchanged pages unchanged
    "allow_html": True,     # our own escaped markup: the title links
    "connected": False,     # the library comes from the page (init_notebook_mode(connected=False))
    "maxBytes": 0,          # every paper, never itables' first-and-last-rows preview
    "showIndex": False,
    "classes": "display compact",
    "style": "width:100%;table-layout:auto;caption-side:bottom",
    "pageLength": 25,
    "lengthMenu": [10, 25, 100, 500],
    "columnDefs": [{"targets": [2, 3], "className": "dt-nowrap"}],
}


def abs_link(paper_id: str, title: str) -> str:
    """The escaped title (or "(untitled)"), linked to the paper's arXiv page when the id is a valid arXiv id."""
    text = html.escape(title) or "(untitled)"
    if not ARXIV_ID.fullmatch(paper_id):
        return text
    return f'<a href="https://arxiv.org/abs/{paper_id}">{text}</a>'


def short_authors(authors: list[str]) -> str:
    """The first few authors, escaped, each closing its own bidi overrides (so a U+202E in one name
    cannot reverse the next); longer lists end with how many more there are."""
    shown = ", ".join(html.escape(close_bidi(name)) for name in authors[:TABLE_AUTHORS])
    hidden = len(authors) - TABLE_AUTHORS
    return f"{shown} +{hidden} more" if hidden > 0 else shown


def table_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per paper, every cell escaped HTML, in the frame's order (newest first)."""
    return pd.DataFrame(
        {
            "Title": [abs_link(i, t) for i, t in zip(frame["id"], frame["title"])],
            "Authors": [short_authors(a) for a in frame["authors"]],
            "Submitted": frame["published"].dt.strftime("%Y-%m-%d"),
            "Category": [html.escape(c) for c in frame["primary_category"]],
        },
        columns=COLUMNS,
    ).reset_index(drop=True)


def papers_table(frame: pd.DataFrame) -> str:
    """The searchable, sortable table of every paper, as HTML for an offline notebook page."""
    return to_html_datatable(table_frame(frame), **OPTIONS)
