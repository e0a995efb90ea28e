"""Store → pandas DataFrame, the one schema the charts, tables and notebook work from.

Columns (one row per paper, newest first, then arXiv id descending):
  id (str, no version) · version (int) · title (str) · authors (list[str], in order) ·
  first_author (str) · n_authors (int) · published, updated (datetime64[ns, UTC]) ·
  primary_category (str) · categories (list[str]) · abstract (str) · comment, journal_ref,
  doi (str or None) · abs_url, pdf_url (str) · topic (str, the slug)
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from helpers.store import Paper, Store

COLUMNS = [
    "id", "version", "title", "authors", "first_author", "n_authors", "published", "updated",
    "primary_category", "categories", "abstract", "comment", "journal_ref", "doi", "abs_url",
    "pdf_url", "topic",
]


def papers_frame(papers: list[Paper], topic: str) -> pd.DataFrame:
    rows = [
        {
            "id": p.id, "version": p.version, "title": p.title, "authors": list(p.authors),
            "first_author": p.authors[0] if p.authors else "", "n_authors": len(p.authors),
            "published": p.published, "updated": p.updated, "primary_category": p.primary_category,
            "categories": list(p.categories), "abstract": p.abstract, "comment": p.comment,
            "journal_ref": p.journal_ref, "doi": p.doi,
            "abs_url": f"https://arxiv.org/abs/{p.versioned_id}",
            "pdf_url": f"https://arxiv.org/pdf/{p.versioned_id}", "topic": topic,
        }
        for p in papers
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("published", "updated"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["version"] = frame["version"].astype("int64")
    frame["n_authors"] = frame["n_authors"].astype("int64")
    return frame


def load_frame(store: Store, topic: str, since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """The topic's stored papers as a DataFrame (see the module docstring for the schema)."""
    return papers_frame(store.papers(topic, since, until), topic)
