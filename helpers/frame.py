"""Store → pandas DataFrame, the one schema the charts, tables and notebook work from.

Columns (one row per paper, newest first, then arXiv id descending):
  id (str, no version) · version (int) · title (str) · authors (list[str], in order) ·
  first_author (str) · n_authors (int) · published, updated (datetime64[ns, UTC]) ·
  primary_category (str) · categories (list[str]) · abstract (str) · comment, journal_ref,
  doi (str or None) · abs_url, pdf_url (str) · topic (str, the slug) ·
  matched_terms (list[str]: which of the topic's terms, or its query's phrases, the paper's title
  or abstract holds; empty when none or not known yet)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from topic_report.arxiv.links import abs_url, pdf_url
from topic_report.store import Paper, Store

COLUMNS = [
    "id", "version", "title", "authors", "first_author", "n_authors", "published", "updated",
    "primary_category", "categories", "abstract", "comment", "journal_ref", "doi", "abs_url",
    "pdf_url", "topic", "matched_terms",
]


def papers_frame(papers: list[Paper], topic: str, matched_terms: Mapping[str, list[str]] | None = None) -> pd.DataFrame:
    """The papers as a DataFrame; `matched_terms` maps paper ids to the terms each matched
    (`Store.matched_terms`)."""
    matched_terms = matched_terms or {}
    rows = [
        {
            "id": p.id, "version": p.version, "title": p.title, "authors": list(p.authors),
            "first_author": p.authors[0] if p.authors else "", "n_authors": len(p.authors),
            "published": p.published, "updated": p.updated, "primary_category": p.primary_category,
            "categories": list(p.categories), "abstract": p.abstract, "comment": p.comment,
            "journal_ref": p.journal_ref, "doi": p.doi,
            "abs_url": abs_url(p.versioned_id),
            "pdf_url": pdf_url(p.versioned_id), "topic": topic,
            "matched_terms": list(matched_terms.get(p.id, [])),
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
    return papers_frame(store.papers(topic, since, until), topic, store.matched_terms(topic))


def authors_by_papers(frame: pd.DataFrame) -> list[tuple[str, int]]:
    """Each author with their number of papers in the frame, most first (ties by name)."""
    counts = frame["authors"].explode().dropna().value_counts()
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
