"""Store → pandas DataFrame, the one schema the charts, tables and notebook work from.

Columns (one row per paper, newest first, then arXiv id descending):
  id (str, no version) · version (int) · title (str) · authors (list[str], in order) ·
  first_author (str) · n_authors (int) · published, updated (datetime64[ns, UTC]: the first
  version's submission, the stored version's) · previous_version (Int64: the version the store
  held before the one it holds now; <NA> when it never held an earlier one) · changed (list[str]:
  which of title, authors, abstract, comment the stored version changed from that one, in that
  order; empty when none did or there is none) · primary_category (str) · categories (list[str]) ·
  abstract (str) · comment, journal_ref, doi (str or None) · abs_url, pdf_url (str) · topic (str,
  the slug) · matched_terms (list[str]: which of the topic's terms, or its query's phrases, the
  paper's title or abstract holds; empty when none or not known yet)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from topic_report.arxiv.links import abs_url, pdf_url
from topic_report.store import Paper, Revision, Store

COLUMNS = [
    "id", "version", "title", "authors", "first_author", "n_authors", "published", "updated", "previous_version",
    "changed", "primary_category", "categories", "abstract", "comment", "journal_ref", "doi", "abs_url", "pdf_url",
    "topic", "matched_terms",
]


def papers_frame(papers: list[Paper], topic: str, matched_terms: Mapping[str, list[str]] | None = None,
                 revisions: Mapping[str, Revision] | None = None) -> pd.DataFrame:
    """The papers as a DataFrame; `matched_terms` maps paper ids to the terms each matched
    (`Store.matched_terms`), `revisions` to what their stored version changed (`Store.revisions`)."""
    matched_terms, revisions = matched_terms or {}, revisions or {}
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
            "previous_version": revisions[p.id].previous if p.id in revisions else None,
            "changed": list(revisions[p.id].changed) if p.id in revisions else [],
        }
        for p in papers
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("published", "updated"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["version"] = frame["version"].astype("int64")
    frame["n_authors"] = frame["n_authors"].astype("int64")
    frame["previous_version"] = frame["previous_version"].astype("Int64")
    return frame


def load_frame(store: Store, topic: str, since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """The topic's stored papers as a DataFrame (see the module docstring for the schema)."""
    return papers_frame(store.papers(topic, since, until), topic, store.matched_terms(topic), store.revisions(topic))


def authors_by_papers(frame: pd.DataFrame) -> list[tuple[str, int]]:
    """Each author with their number of papers in the frame, most first (ties by name)."""
    counts = frame["authors"].explode().dropna().value_counts()
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
