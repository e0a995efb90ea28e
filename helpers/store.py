"""The local store: one SQLite file holding papers, topic membership and a log of fetch runs.

Papers are keyed by arXiv id without version; a newer version replaces the older one. Every
write is one transaction, so a failed or interrupted fetch leaves the papers as they were. WAL
mode and a busy timeout let a fetch and a build (or two fetches) share the file safely.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from helpers import TopicReportError

SCHEMA = """
CREATE TABLE IF NOT EXISTS papers (
    id               TEXT PRIMARY KEY,   -- arXiv id without version, e.g. 2602.09934
    version          INTEGER NOT NULL,
    title            TEXT NOT NULL,
    abstract         TEXT NOT NULL,
    authors          TEXT NOT NULL,      -- JSON list of names, in order
    affiliations     TEXT NOT NULL,      -- JSON list (parallel to authors) of lists of strings
    published        TEXT NOT NULL,      -- ISO 8601 UTC, first version
    updated          TEXT NOT NULL,      -- ISO 8601 UTC, this version
    primary_category TEXT NOT NULL,
    categories       TEXT NOT NULL,      -- JSON list
    comment          TEXT,
    journal_ref      TEXT,
    doi              TEXT,
    links            TEXT NOT NULL,      -- JSON list of {href, rel, title, type}
    stored_at        TEXT NOT NULL       -- when this row last changed
);
CREATE TABLE IF NOT EXISTS topic_papers (
    topic    TEXT NOT NULL,              -- topic slug
    paper_id TEXT NOT NULL REFERENCES papers(id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (topic, paper_id)
);
CREATE TABLE IF NOT EXISTS fetch_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic       TEXT NOT NULL,
    since       TEXT,
    until       TEXT,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    fetched     INTEGER NOT NULL,
    new         INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    requests    INTEGER NOT NULL,
    outcome     TEXT NOT NULL,           -- ok | error
    error       TEXT
);
CREATE INDEX IF NOT EXISTS papers_published ON papers(published);
"""

# Modern (2602.09934) and pre-2007 (hep-th/9901001, math.AG/0601001) arXiv ids, without version.
ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7}")

# Seconds a writer waits for another process's transaction before giving up with a clear error.
BUSY_TIMEOUT_SECONDS = 60


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Paper:
    """One arXiv paper, every field the API gives."""

    id: str
    version: int
    title: str
    abstract: str
    authors: list[str]
    published: datetime
    updated: datetime
    primary_category: str
    categories: list[str]
    affiliations: list[list[str]] = field(default_factory=list)
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    links: list[dict] = field(default_factory=list)

    @property
    def versioned_id(self) -> str:
        return f"{self.id}v{self.version}"


@dataclass(frozen=True)
class FetchCounts:
    fetched: int
    new: int
    updated: int


_JSON_FIELDS = ("authors", "affiliations", "categories", "links")
_COLUMNS = (
    "id", "version", "title", "abstract", "authors", "affiliations", "published", "updated",
    "primary_category", "categories", "comment", "journal_ref", "doi", "links",
)


def _row(paper: Paper, stored_at: str) -> tuple:
    values = asdict(paper)
    for key in _JSON_FIELDS:
        values[key] = json.dumps(values[key], ensure_ascii=False)
    values["published"] = iso(paper.published)
    values["updated"] = iso(paper.updated)
    return tuple(values[c] for c in _COLUMNS) + (stored_at,)


def _paper(row: sqlite3.Row) -> Paper:
    values = {c: row[c] for c in _COLUMNS}
    for key in _JSON_FIELDS:
        values[key] = json.loads(values[key])
    values["published"] = datetime.fromisoformat(values["published"])
    values["updated"] = datetime.fromisoformat(values["updated"])
    return Paper(**values)


class Store:
    """The SQLite store. Use as a context manager, or call close()."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            if self.path.exists() and not _is_writable(self.path):
                self._db = self._open_read_only()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = self._connect(str(self.path))
                if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._db.execute("PRAGMA journal_mode = WAL")
                self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise TopicReportError(f"store {self.path} is not usable: {exc}") from None
        except OSError as exc:
            raise TopicReportError(f"cannot open store {self.path}: {exc.strerror or exc}") from None

    @staticmethod
    def _connect(target: str, uri: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, uri=uri)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        """A store we may not write can still be read (digest, report); fetching into it fails clearly.
        In a read-only directory SQLite cannot make WAL's shared-memory file, hence `immutable`."""
        uri = self.path.resolve().as_uri()
        try:
            db = self._connect(uri + "?mode=ro", uri=True)
            db.execute("SELECT count(*) FROM papers").fetchone()
            return db
        except sqlite3.OperationalError:
            return self._connect(uri + "?immutable=1", uri=True)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise TopicReportError(f"store {self.path}: {exc}") from None

    # --- writes -------------------------------------------------------------------------------

    def save_fetch(
        self, topic: str, papers: list[Paper], *, since: datetime | None, until: datetime | None,
        started_at: datetime, requests: int,
    ) -> FetchCounts:
        """Store one successful fetch atomically: papers (newest version wins), membership, log."""
        now = iso(utc_now())
        new = updated = 0
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for paper in _newest_versions(papers):
                    stored = self._db.execute("SELECT version FROM papers WHERE id = ?", (paper.id,)).fetchone()
                    if stored is None or stored["version"] < paper.version:
                        self._db.execute(
                            f"INSERT OR REPLACE INTO papers ({', '.join(_COLUMNS)}, stored_at) "
                            f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
                            _row(paper, now),
                        )
                    joined = self._db.execute(
                        "INSERT OR IGNORE INTO topic_papers (topic, paper_id, added_at) VALUES (?, ?, ?)",
                        (topic, paper.id, now),
                    ).rowcount
                    if joined:
                        new += 1
                    elif stored is not None and stored["version"] < paper.version:
                        updated += 1
                counts = FetchCounts(fetched=len(papers), new=new, updated=updated)
                self._log(topic, since, until, started_at, counts, requests, "ok", None)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            raise TopicReportError(f"store {self.path}: {exc}") from None
        return counts

    def log_failure(self, topic: str, *, since, until, started_at: datetime, requests: int, error: str) -> None:
        """Record a failed run in the log; papers and membership are not touched."""
        try:
            self._log(topic, since, until, started_at, FetchCounts(0, 0, 0), requests, "error", error)
        except sqlite3.DatabaseError:
            pass  # a store that cannot even take the log line must not hide the original error

    def _log(self, topic, since, until, started_at, counts: FetchCounts, requests, outcome, error) -> None:
        self._db.execute(
            "INSERT INTO fetch_runs (topic, since, until, started_at, finished_at, fetched, new, updated,"
            " requests, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (topic, since and iso(since), until and iso(until), iso(started_at), iso(utc_now()),
             counts.fetched, counts.new, counts.updated, requests, outcome, error),
        )

    # --- reads --------------------------------------------------------------------------------

    def papers(self, topic: str, since: date | None = None, until: date | None = None,
               limit: int | None = None) -> list[Paper]:
        """The topic's papers, newest first (then arXiv id descending), optionally within dates."""
        sql = ("SELECT p.* FROM papers p JOIN topic_papers t ON t.paper_id = p.id WHERE t.topic = ?")
        params: list = [topic]
        if since:
            sql += " AND p.published >= ?"
            params.append(since.isoformat())
        if until:
            sql += " AND substr(p.published, 1, 10) <= ?"
            params.append(until.isoformat())
        sql += " ORDER BY p.published DESC, p.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_paper(row) for row in self._query(sql, tuple(params))]

    def newest_published(self, topic: str) -> datetime | None:
        row = self._query(
            "SELECT max(p.published) AS newest FROM papers p JOIN topic_papers t ON t.paper_id = p.id"
            " WHERE t.topic = ?", (topic,))
        return datetime.fromisoformat(row[0]["newest"]) if row and row[0]["newest"] else None

    def count(self, topic: str) -> int:
        return self._query("SELECT count(*) FROM topic_papers WHERE topic = ?", (topic,))[0][0]

    def count_between(self, topic: str, since: datetime, until: datetime) -> int:
        """How many of the topic's papers were submitted within [since, until]."""
        return self._query(
            "SELECT count(*) FROM papers p JOIN topic_papers t ON t.paper_id = p.id"
            " WHERE t.topic = ? AND p.published BETWEEN ? AND ?", (topic, iso(since), iso(until)))[0][0]

    def added_since(self, topic: str, moment: datetime) -> int:
        """How many papers joined the topic after `moment`."""
        return self._query(
            "SELECT count(*) FROM topic_papers WHERE topic = ? AND added_at > ?", (topic, iso(moment)))[0][0]

    def fingerprint(self, topic: str) -> str:
        """Changes whenever the topic's stored papers change; lets a build skip unchanged topics."""
        row = self._query(
            "SELECT count(*), max(p.stored_at), max(t.added_at) FROM topic_papers t"
            " JOIN papers p ON p.id = t.paper_id WHERE t.topic = ?", (topic,))[0]
        return f"{row[0]}|{row[1]}|{row[2]}"

    def fetch_runs(self, topic: str | None = None) -> list[dict]:
        sql = "SELECT * FROM fetch_runs" + (" WHERE topic = ?" if topic else "") + " ORDER BY id"
        return [dict(row) for row in self._query(sql, (topic,) if topic else ())]

    def last_success(self, topic: str) -> datetime | None:
        row = self._query(
            "SELECT max(finished_at) FROM fetch_runs WHERE topic = ? AND outcome = 'ok'", (topic,))[0][0]
        return datetime.fromisoformat(row) if row else None


def _newest_versions(papers: list[Paper]) -> list[Paper]:
    """One paper per id, the highest version, in first-seen order."""
    best: dict[str, Paper] = {}
    for paper in papers:
        if paper.id not in best or best[paper.id].version < paper.version:
            best[paper.id] = paper
    return list(best.values())


def _is_writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
