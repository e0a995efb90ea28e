"""The local store: one SQLite file holding papers, topic membership and a log of fetch runs.

Papers are keyed by arXiv id without version; a newer version replaces the older one. Every
write is one transaction, so a failed or interrupted fetch leaves the papers as they were. WAL
mode and a busy timeout let a fetch and a build (or two fetches) share the file safely.

The schema is versioned (`PRAGMA user_version`): a store of an older version is upgraded in place,
in one transaction, keeping every row; a newer or foreign one is refused in one line.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from topic_report import TopicReportError

SCHEMA_VERSION = 6
# What version 2 adds to version 1 (the first, unversioned schema); the upgrade runs exactly this.
SCHEMA_2 = """
CREATE TABLE fetch_requests (
    run_id   INTEGER NOT NULL REFERENCES fetch_runs(id),
    seq      INTEGER NOT NULL,           -- order within the run
    query    TEXT NOT NULL,              -- search_query
    sort_by  TEXT NOT NULL,
    start    INTEGER NOT NULL,
    reported INTEGER NOT NULL,           -- totalResults of the answer
    arrived  INTEGER NOT NULL,           -- entries in the answer
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE topic_state (
    topic         TEXT PRIMARY KEY,      -- slug
    name          TEXT NOT NULL,
    definition    TEXT NOT NULL,         -- fingerprint of what the topic matches (topic_report.topics.Topic.definition)
    covered_since TEXT NOT NULL,         -- the topic's papers are complete from here (up to the cap)
    swept_until   TEXT NOT NULL,         -- to here: when its last run asked arXiv
    capped_at     INTEGER                -- max_results when a run stopped at it, else NULL
);
"""
# What version 3 adds: the delivery log (helpers/delivery.py). Per recipient (a mail list, the
# webhook) and topic, which papers at which version went out, and from when each attempt counted
# papers as new, so a later run neither sends a paper twice nor skips one a failed attempt held.
SCHEMA_3 = """
CREATE TABLE deliveries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient  TEXT NOT NULL,            -- mail:<addresses> or webhook
    started_at TEXT NOT NULL,
    outcome    TEXT NOT NULL,            -- sent | nothing-new | failed
    error      TEXT,
    papers     INTEGER NOT NULL
);
CREATE TABLE delivery_topics (
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    topic       TEXT NOT NULL,
    since       TEXT NOT NULL,           -- papers that joined the topic (or got a new version) from here on were due
    PRIMARY KEY (delivery_id, topic)
);
CREATE TABLE delivered_papers (
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    topic       TEXT NOT NULL,
    paper_id    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, topic, paper_id)
);
CREATE INDEX delivered_papers_paper ON delivered_papers(topic, paper_id);
"""
# What version 4 adds: what arXiv announced (the audit's ground truth), the listings audited, the
# BibTeX keys exported, and the papers that left a topic (so that one coming back keeps its first
# arrival, and the page says why).
SCHEMA_4 = """
CREATE TABLE announcements (
    day        TEXT NOT NULL,            -- the listing's date, YYYY-MM-DD
    paper_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    kind       TEXT NOT NULL,            -- new, cross, replace, replace-cross
    categories TEXT NOT NULL,            -- JSON list
    title      TEXT NOT NULL,
    abstract   TEXT NOT NULL,
    PRIMARY KEY (day, paper_id, version)
);
CREATE TABLE audited_days (
    listing    TEXT NOT NULL,            -- its category set, cs.CV+cs.GR
    day        TEXT NOT NULL,
    source     TEXT NOT NULL,            -- listing (the day's RSS feed) or oai (OAI-PMH, a day a run missed)
    items      INTEGER NOT NULL,
    audited_at TEXT NOT NULL,
    PRIMARY KEY (listing, day)
);
CREATE TABLE citation_keys (
    paper_id TEXT PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE          -- its BibTeX key, once exported: it names this paper forever
);
CREATE TABLE departures (
    topic     TEXT NOT NULL,
    paper_id  TEXT NOT NULL,
    added_at  TEXT NOT NULL,             -- when it first joined the topic
    left_at   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (topic, paper_id)
);
"""
# What version 5 adds: per paper, what its stored version changed from the version the store held
# before it, so that an UPDATED card can say what changed, not only that something did.
SCHEMA_5 = """
CREATE TABLE revisions (
    paper_id TEXT PRIMARY KEY REFERENCES papers(id),
    version  INTEGER NOT NULL,           -- the version stored (papers.updated is its date)
    previous INTEGER NOT NULL,           -- the version it replaced in the store
    changed  TEXT NOT NULL               -- JSON list of what differs from that one, of REVISED_FIELDS
);
"""
# What version 6 adds: the papers each pinned author's arXiv feed claims, so that a followed
# author pinned by identifier marks and ranks their own papers, not a namesake's.
SCHEMA_6 = """
CREATE TABLE author_claims (
    pin      TEXT NOT NULL,               -- the author's arXiv identifier or ORCID iD
    paper_id TEXT NOT NULL,
    PRIMARY KEY (pin, paper_id)
);
"""
SCHEMA = """
CREATE TABLE papers (
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
CREATE TABLE topic_papers (
    topic    TEXT NOT NULL,              -- topic slug
    paper_id TEXT NOT NULL REFERENCES papers(id),
    added_at TEXT NOT NULL,
    matched_terms TEXT,                  -- JSON list of the topic's terms the paper matched, NULL until known
    PRIMARY KEY (topic, paper_id)
);
CREATE TABLE fetch_runs (
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
    error       TEXT,
    kind        TEXT,                    -- window (the topic's whole window), update, dates (--since/--until), sample
    reported    INTEGER,                 -- papers arXiv reported matching the run's query (totalResults)
    capped      INTEGER NOT NULL DEFAULT 0, -- 1: the run stopped at the topic's max_results
    removed     INTEGER NOT NULL DEFAULT 0  -- papers that left the topic (its definition changed)
);
CREATE INDEX papers_published ON papers(published);
""" + SCHEMA_2 + SCHEMA_3 + SCHEMA_4 + SCHEMA_5 + SCHEMA_6
V1_TABLES = {"papers", "topic_papers", "fetch_runs"}
V1_UPGRADE = [
    "ALTER TABLE topic_papers ADD COLUMN matched_terms TEXT",
    "ALTER TABLE fetch_runs ADD COLUMN kind TEXT",
    "ALTER TABLE fetch_runs ADD COLUMN reported INTEGER",
    "ALTER TABLE fetch_runs ADD COLUMN capped INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE fetch_runs ADD COLUMN removed INTEGER NOT NULL DEFAULT 0",
    *SCHEMA_2.split(";"),
]
# Each version's upgrade from the one before: a store of version N runs those after N, in order.
UPGRADES = {1: V1_UPGRADE, 2: SCHEMA_3.split(";"), 3: SCHEMA_4.split(";"), 4: SCHEMA_5.split(";"),
            5: SCHEMA_6.split(";")}
# What a reader sees of a paper that a new version may change (a store's `revisions`).
REVISED_FIELDS = ("title", "authors", "abstract", "comment")

# Modern (2602.09934) and pre-2007 (hep-th/9901001, math.AG/0601001) arXiv ids, without version.
ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7}")

# Why a paper left a topic whose definition was edited (narrowed).
NO_LONGER_MATCHES = "no longer matches the topic's definition"

# What a failed write of a fetch's papers cost: the store is as it was.
NOTHING_SAVED = "; nothing of this fetch was saved"

# Seconds a writer waits for another process's transaction before giving up with a clear error.
BUSY_TIMEOUT_SECONDS = 60


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
    removed: int = 0  # papers that left the topic: its definition no longer matches them


@dataclass(frozen=True)
class RequestRecord:
    """One answered request of a fetch: what arXiv reported matching, and what arrived."""

    query: str
    sort_by: str
    start: int
    reported: int
    arrived: int


@dataclass(frozen=True)
class TopicState:
    """What the store knows of a topic's coverage: the definition its papers were fetched with,
    and the span they are complete for."""

    topic: str
    name: str
    definition: str
    covered_since: datetime
    swept_until: datetime
    capped_at: int | None = None


@dataclass(frozen=True)
class FetchRecord:
    """How a successful fetch is to be stored, besides its papers."""

    kind: str                               # window, update, dates or sample
    since: datetime | None = None           # the run's submission-date window
    until: datetime | None = None
    requests: list[RequestRecord] = field(default_factory=list)
    reported: int | None = None             # papers arXiv reported matching
    capped: bool = False                    # stopped at max_results
    matched_terms: dict[str, list[str]] | None = None  # per paper id, the topic's terms it matched
    members_from: datetime | None = None    # the topic then holds exactly these papers among those submitted since
    state: TopicState | None = None         # the topic's coverage after this fetch


@dataclass(frozen=True)
class Revision:
    """What a paper's stored version changed from the version the store held before it."""

    previous: int                  # that version
    changed: list[str]             # of REVISED_FIELDS, in that order; empty: only the PDF (or nothing shown) changed


@dataclass(frozen=True)
class Coverage:
    """A topic's coverage, for its page and its run line."""

    last_fetched: datetime | None  # when its last successful run finished
    reported: int | None           # what arXiv reported matching its window then
    stored: int                    # papers the topic holds now
    capped: bool                   # a run stopped at max_results, and none fetched the whole window since
    since: datetime | None         # the start of the window the topic covers

    def sentence(self, max_results: int | None = None) -> str:
        """`arXiv reports 317 since 2026-10-12, 317 stored`, or `newest 50 of 317 matched …` when the
        cap cut it; for a topic's run line and its page."""
        since = f" since {self.since:%Y-%m-%d}" if self.since else ""
        if self.reported is None:
            return f"{self.stored} stored"
        if self.capped and self.stored < self.reported:
            cap = f" (max_results {max_results})" if max_results else ""
            return f"newest {self.stored} of {self.reported} matched{since}{cap}"
        return f"arXiv reports {self.reported}{since}, {self.stored} stored"


_JSON_FIELDS = ("authors", "affiliations", "categories", "links")
_COLUMNS = (
    "id", "version", "title", "abstract", "authors", "affiliations", "published", "updated",
    "primary_category", "categories", "comment", "journal_ref", "doi", "links",
)


def _row(paper: Paper) -> tuple:
    values = asdict(paper)
    for key in _JSON_FIELDS:
        values[key] = json.dumps(values[key], ensure_ascii=False)
    values["published"] = iso(paper.published)
    values["updated"] = iso(paper.updated)
    return tuple(values[c] for c in _COLUMNS)


def _paper(row: sqlite3.Row) -> Paper:
    values = {c: row[c] for c in _COLUMNS}
    for key in _JSON_FIELDS:
        values[key] = json.loads(values[key])
    values["published"] = datetime.fromisoformat(values["published"])
    values["updated"] = datetime.fromisoformat(values["updated"])
    return Paper(**values)


class Arrivals:
    """A fetch's papers as they arrive, page by page, kept as rows of a temporary table of the
    store's connection (which SQLite keeps in a file, not in this process's memory) until
    `Store.save_fetch` moves them into the store in one transaction. Made by `Store.arrivals()`."""

    def __init__(self, store: Store, table: str):
        self._store, self._table = store, table

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        # SQLite writes the table's pages to its file when its cache is full, at any statement.
        return self._store._query(sql, params, lost=NOTHING_SAVED)

    def add(self, papers: list[Paper], matched_terms: dict[str, list[str]] | None = None) -> None:
        """Keep these papers, each with the topic's terms it matched (per paper id), if given."""
        matched = matched_terms or {}
        self._store._write_many(
            f"INSERT INTO {self._table} ({', '.join(_COLUMNS)}, matched_terms)"
            f" VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
            [_row(paper) + (json.dumps(matched[paper.id], ensure_ascii=False) if paper.id in matched else None,)
             for paper in papers], lost=NOTHING_SAVED)

    def clear(self) -> None:
        self._query(f"DELETE FROM {self._table}")

    def __len__(self) -> int:
        """The papers that arrived, a paper sent twice counted twice."""
        return self._query(f"SELECT count(*) FROM {self._table}")[0][0]

    def __contains__(self, paper_id: object) -> bool:
        return bool(self._query(f"SELECT 1 FROM {self._table} WHERE id = ? LIMIT 1", (paper_id,)))

    def oldest_published(self) -> datetime | None:
        oldest = self._query(f"SELECT min(published) FROM {self._table}")[0][0]
        return datetime.fromisoformat(oldest) if oldest else None

    def newest_versions(self) -> Iterator[sqlite3.Row]:
        """One row per paper id, in the order the ids first arrived: its highest version (the first
        to arrive of that version), with the matched terms of the id's last arrival."""
        return self._store._db.execute(
            f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY version DESC, seq) AS rank,"
            f" min(seq) OVER (PARTITION BY id) AS first_seq, last_value(matched_terms) OVER ("
            f"PARTITION BY id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_terms"
            f" FROM {self._table}) WHERE rank = 1 ORDER BY first_seq")

    def ids_query(self) -> str:
        """The SELECT of the ids that arrived, a subquery for SQL on the store."""
        return f"SELECT id FROM {self._table}"


class Store:
    """The SQLite store. Use as a context manager, or call close()."""

    _arrival_tables = itertools.count()  # names a temporary table per Arrivals

    def __init__(self, path: Path | str, create: bool = True):
        """Open the store at `path`; a missing one is created only if `create` (commands that
        only read must not leave an empty store behind a mistyped path)."""
        self.path = Path(path)
        try:
            self.created = not self.path.exists()  # a folder we may not search raises
            if self.created and not create:
                raise TopicReportError(f"no store at {self.path}: fetch papers first (topic-report fetch), "
                                       f"or point TOPIC_REPORT_DB at the store")
            self.read_only = not self.created and not _is_writable(self.path)
            if self.read_only:
                self._db = self._open_read_only()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = self._connect(str(self.path))
                self._version(self._db)  # refuse a newer or foreign file before changing anything in it
                if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._db.execute("PRAGMA journal_mode = WAL")
                self._upgrade()
        except sqlite3.DatabaseError as exc:
            raise TopicReportError(f"store {self.path} is not usable: {_describe(exc)}") from None
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
        except sqlite3.OperationalError:
            # Papers committed to the WAL but not yet merged into the file: `immutable` would not
            # see them, and reading them means making the -shm file beside it.
            wal = Path(f"{self.path}-wal")
            if wal.is_file() and wal.stat().st_size > 0:
                raise TopicReportError(f"store {self.path} is read-only and its last changes are in {wal.name}, "
                                       "which cannot be read without writing beside it; make its folder writable "
                                       "once") from None
            db = self._connect(uri + "?immutable=1", uri=True)
        version = self._version(db)
        if version == 0:
            db.close()
            raise TopicReportError(f"store {self.path} is not a topic-report store (SQLite finds no tables in it, "
                                   "and it is read-only); name another file")
        if version != SCHEMA_VERSION:
            db.close()
            raise TopicReportError(f"store {self.path} has schema version {version} and is read-only, "
                                   f"so it cannot be upgraded to version {SCHEMA_VERSION}; make it writable once")
        return db

    def _version(self, db: sqlite3.Connection) -> int:
        """The store's schema version; 1 for the first, unversioned one. Refuses newer and foreign files."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables.discard("sqlite_sequence")
        if version > SCHEMA_VERSION:
            raise TopicReportError(f"store {self.path} has schema version {version}, newer than this "
                                   f"topic-report's {SCHEMA_VERSION}: upgrade topic-report to use it")
        if version == 0 and tables:
            columns = {row[1] for row in db.execute("PRAGMA table_info(papers)")}
            if not V1_TABLES <= tables or not set(_COLUMNS) <= columns:
                raise TopicReportError(f"store {self.path} is not a topic-report store "
                                       f"(it holds tables {', '.join(sorted(tables))}); name another file")
            return 1
        return version

    def _upgrade(self) -> None:
        """Create the schema in an empty file, or upgrade an older store in place (one transaction)."""
        if self._version(self._db) == SCHEMA_VERSION:
            return  # the usual case, without taking the write lock a running fetch may hold
        self._db.execute("BEGIN IMMEDIATE")  # a second process upgrading at once waits, then finds it done
        try:
            version = self._version(self._db)
            if version == 0:
                statements = SCHEMA.split(";")
            else:
                statements = [statement for step in range(version, SCHEMA_VERSION) for statement in UPGRADES[step]]
            for statement in statements:
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._db.in_transaction:  # SQLite has rolled back by itself after a full disk or I/O error
            self._db.execute("ROLLBACK")

    def check_writable(self) -> None:
        """Refuses a store this process may not write, before a fetch spends any request on it."""
        if self.read_only:
            raise TopicReportError(f"store {self.path} is readonly here (the file or its folder may not be written): "
                                   "a fetch could not save; make both writable, or build with --offline")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _query(self, sql: str, params: tuple | dict = (), lost: str = "") -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise TopicReportError(f"store {self.path}: {exc}{lost}") from None

    def _write_many(self, sql: str, rows: list[tuple], lost: str = "") -> None:
        try:
            self._db.executemany(sql, rows)
        except sqlite3.DatabaseError as exc:
            raise TopicReportError(f"store {self.path}: {_describe(exc)}{lost}") from None

    # --- writes -------------------------------------------------------------------------------

    def save_fetch(self, topic: str, papers: list[Paper] | Arrivals, *, started_at: datetime, requests: int,
                   record: FetchRecord) -> FetchCounts:
        """Store one successful fetch atomically: papers (newest version wins), membership and the
        terms each paper matched (`record.matched_terms` for papers given as a list; arrivals
        carry theirs), the topic's coverage, the run and its requests in the log."""
        if not isinstance(papers, Arrivals):
            with self.arrivals() as arrivals:
                arrivals.add(papers, record.matched_terms)
                return self.save_fetch(topic, arrivals, started_at=started_at, requests=requests, record=record)
        now = iso(utc_now())
        new = updated = removed = 0
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for paper in papers.newest_versions():
                    replaced = self._store_newer(paper, now)
                    terms = paper["last_terms"]
                    # A paper coming back keeps its first arrival: it is not new to the topic's readers.
                    joined = self._db.execute(
                        "INSERT OR IGNORE INTO topic_papers (topic, paper_id, added_at, matched_terms)"
                        " VALUES (?, ?, coalesce((SELECT added_at FROM departures WHERE topic = ? AND paper_id = ?), ?), ?)",
                        (topic, paper["id"], topic, paper["id"], now, terms)).rowcount
                    if joined:
                        self._db.execute("DELETE FROM departures WHERE topic = ? AND paper_id = ?", (topic, paper["id"]))
                        new += 1
                    else:
                        if terms is not None:
                            self._db.execute("UPDATE topic_papers SET matched_terms = ? WHERE topic = ? AND paper_id = ?",
                                             (terms, topic, paper["id"]))
                        if replaced:
                            updated += 1
                if record.members_from is not None:
                    removed = self._keep_only(topic, papers, record.members_from)
                counts = FetchCounts(fetched=len(papers), new=new, updated=updated, removed=removed)
                run_id = self._log(topic, record.since, record.until, started_at, counts, requests,
                                   "ok", None, record)
                self._db.executemany(
                    "INSERT INTO fetch_requests (run_id, seq, query, sort_by, start, reported, arrived)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(run_id, seq, r.query, r.sort_by, r.start, r.reported, r.arrived)
                     for seq, r in enumerate(record.requests)])
                if record.state is not None:
                    self._put_state(record.state)
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.DatabaseError as exc:
            raise TopicReportError(f"store {self.path}: {_describe(exc)}{NOTHING_SAVED}") from None
        return counts

    @contextlib.contextmanager
    def arrivals(self) -> Iterator[Arrivals]:
        """A fetch's papers kept in the store's temporary space until saved (`save_fetch`), dropped after."""
        table = f"arrivals_{next(self._arrival_tables)}"
        self._query(f"CREATE TEMP TABLE {table} (seq INTEGER PRIMARY KEY, {', '.join(_COLUMNS)}, matched_terms TEXT)",
                    lost=NOTHING_SAVED)
        self._query(f"CREATE INDEX temp.{table}_id ON {table} (id)", lost=NOTHING_SAVED)
        try:
            yield Arrivals(self, table)
        finally:
            # A table left behind goes with the connection; a failing drop (the disk that failed the
            # fetch) must not hide why the fetch failed.
            with contextlib.suppress(sqlite3.DatabaseError):
                self._db.execute(f"DROP TABLE temp.{table}")

    def _store_newer(self, paper: sqlite3.Row, now: str) -> bool:
        """Store the paper (a row of Arrivals.newest_versions) unless the store holds this version or
        a newer one. A version replacing an older one keeps what it changed of it (`revisions`);
        returns whether it replaced one."""
        stored = self._db.execute(f"SELECT version, {', '.join(REVISED_FIELDS)} FROM papers WHERE id = ?",
                                  (paper["id"],)).fetchone()
        if stored is not None and stored["version"] >= paper["version"]:
            return False
        self._db.execute(f"INSERT OR REPLACE INTO papers ({', '.join(_COLUMNS)}, stored_at) "
                         f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
                         tuple(paper[column] for column in _COLUMNS) + (now,))
        if stored is None:
            return False
        self._db.execute("INSERT OR REPLACE INTO revisions (paper_id, version, previous, changed) VALUES (?, ?, ?, ?)",
                         (paper["id"], paper["version"], stored["version"], json.dumps(_changed(stored, paper))))
        return True

    def keep_papers(self, papers: list[Paper]) -> None:
        """Store papers outside any topic (a topic's example papers), newest version winning."""
        now = iso(utc_now())
        with self.arrivals() as arrivals:
            arrivals.add(papers)
            with self._writing():
                for paper in arrivals.newest_versions():
                    self._store_newer(paper, now)

    def _keep_only(self, topic: str, arrivals: Arrivals, members_from: datetime) -> int:
        """Remove from the topic (not from the store) its papers submitted since `members_from`
        that did not arrive; returns how many left."""
        leaving = [row[0] for row in self._db.execute(
            "SELECT t.paper_id FROM topic_papers t JOIN papers p ON p.id = t.paper_id"
            f" WHERE t.topic = ? AND p.published >= ? AND t.paper_id NOT IN ({arrivals.ids_query()})",
            (topic, iso(members_from)))]
        for sql, params in self._departing(topic, dict.fromkeys(leaving, NO_LONGER_MATCHES)):
            self._db.execute(sql, params)
        return len(leaving)

    def _departing(self, topic: str, reasons: dict[str, str]) -> list[tuple[str, tuple]]:
        """The statements by which papers leave the topic (not the store), keeping why and when
        they first joined."""
        left_at = iso(utc_now())
        return [statement for paper_id, reason in reasons.items() for statement in (
            ("INSERT OR REPLACE INTO departures (topic, paper_id, added_at, left_at, reason)"
             " SELECT topic, paper_id, added_at, ?, ? FROM topic_papers WHERE topic = ? AND paper_id = ?",
             (left_at, reason, topic, paper_id)),
            ("DELETE FROM topic_papers WHERE topic = ? AND paper_id = ?", (topic, paper_id)))]

    def leave(self, topic: str, reasons: dict[str, str]) -> None:
        """Papers leave the topic, each with the reason the page gives (a new version no longer matches)."""
        self._transaction(self._departing(topic, reasons))

    def save_announcements(self, listing: str, days: dict[date, list], source: str) -> None:
        """What arXiv announced on these days in a listing's categories (topic_report.arxiv.listing.Announced)."""
        now = iso(utc_now())
        statements = []
        for day, items in days.items():
            statements += [("INSERT OR IGNORE INTO announcements (day, paper_id, version, kind, categories, title, abstract)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (day.isoformat(), a.id, a.version, a.kind, json.dumps(list(a.categories)), a.title, a.abstract))
                           for a in items]
            statements.append(("INSERT OR REPLACE INTO audited_days (listing, day, source, items, audited_at)"
                               " VALUES (?, ?, ?, ?, ?)", (listing, day.isoformat(), source, len(items), now)))
        self._transaction(statements)

    def audited_days(self, listing: str) -> dict[date, str]:
        """The days of a listing the store holds arXiv's announcement of, and where it came from."""
        rows = self._query("SELECT day, source FROM audited_days WHERE listing = ?", (listing,))
        return {date.fromisoformat(row[0]): row[1] for row in rows}

    def announcements(self, since: date, until: date) -> list[sqlite3.Row]:
        """What arXiv announced from `since` to `until`, each paper version on each day."""
        return self._query("SELECT * FROM announcements WHERE day BETWEEN ? AND ? ORDER BY day, paper_id",
                           (since.isoformat(), until.isoformat()))

    def versions(self, topic: str) -> dict[str, int]:
        """Per paper of the topic, the version the store holds."""
        rows = self._query("SELECT p.id, p.version FROM papers p JOIN topic_papers t ON t.paper_id = p.id"
                           " WHERE t.topic = ?", (topic,))
        return {row[0]: row[1] for row in rows}

    def citation_keys(self) -> dict[str, str]:
        """Per paper id, the BibTeX key it was exported with."""
        return {row[0]: row[1] for row in self._query("SELECT paper_id, key FROM citation_keys")}

    def keep_citation_keys(self, keys: dict[str, str]) -> bool:
        """Remember exported keys (those already kept stay as they are), if the store can be
        written at once: a build must neither wait for a fetch writing nor fail on a read-only
        store. False when it could not; the next build keeps them."""
        try:
            self._db.execute("PRAGMA busy_timeout = 0")
            self._transaction([("INSERT OR IGNORE INTO citation_keys (paper_id, key) VALUES (?, ?)", item)
                               for item in keys.items()])
            return True
        except TopicReportError:
            return False
        finally:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")

    def departures(self, topic: str) -> dict[str, str]:
        """Per paper that left the topic, why."""
        return {row[0]: row[1] for row in self._query("SELECT paper_id, reason FROM departures WHERE topic = ?", (topic,))}

    def _put_state(self, state: TopicState) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO topic_state (topic, name, definition, covered_since, swept_until, capped_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (state.topic, state.name, state.definition, iso(state.covered_since), iso(state.swept_until),
             state.capped_at))

    def move_topics(self, moves: dict[str, str]) -> None:
        """Move topics' membership, log, coverage and departures from slug to slug, in one
        transaction and in two steps (through `<old>~moving`), so that two topics can swap slugs."""
        if not moves:
            return
        tables = ("topic_papers", "fetch_runs", "topic_state", "departures", "delivery_topics", "delivered_papers")
        steps = [{old: f"{old}~moving" for old in moves}, {f"{old}~moving": new for old, new in moves.items()}]
        self._transaction([(f"UPDATE {table} SET topic = ? WHERE topic = ?", (new, old))
                           for step in steps for old, new in step.items() for table in tables])

    def topic_slugs(self) -> set[str]:
        """Every slug the store holds papers, runs or coverage of."""
        rows = self._query("SELECT topic FROM topic_papers UNION SELECT topic FROM fetch_runs"
                           " UNION SELECT topic FROM topic_state")
        return {row[0] for row in rows}

    def _transaction(self, statements: list[tuple[str, tuple]]) -> None:
        with self._writing():
            for sql, params in statements:
                self._db.execute(sql, params)

    @contextlib.contextmanager
    def _writing(self, lost: str = "") -> Iterator[None]:
        """One write transaction: committed whole, or rolled back whole with one line (`lost`
        says what that cost)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.DatabaseError as exc:
            raise TopicReportError(f"store {self.path}: {_describe(exc)}{lost}") from None

    def log_failure(self, topic: str, *, since, until, started_at: datetime, requests: int, error: str,
                    kind: str | None = None) -> None:
        """Record a failed run in the log; papers and membership are not touched."""
        try:
            self._log(topic, since, until, started_at, FetchCounts(0, 0, 0), requests, "error", error,
                      FetchRecord(kind=kind or "window"))
        except sqlite3.DatabaseError:
            pass  # a store that cannot even take the log line must not hide the original error

    def _log(self, topic, since, until, started_at, counts: FetchCounts, requests, outcome, error,
             record: FetchRecord) -> int:
        return self._db.execute(
            "INSERT INTO fetch_runs (topic, since, until, started_at, finished_at, fetched, new, updated,"
            " requests, outcome, error, kind, reported, capped, removed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (topic, since and iso(since), until and iso(until), iso(started_at), iso(utc_now()),
             counts.fetched, counts.new, counts.updated, requests, outcome, error, record.kind,
             record.reported, int(record.capped), counts.removed),
        ).lastrowid

    def record_delivery(self, recipient: str, *, started_at: datetime, outcome: str, error: str | None,
                        due_since: dict[str, datetime], papers: list[tuple[str, str, int]]) -> None:
        """Log one delivery attempt to `recipient`: per topic, from when papers were due
        (`due_since`), and the (topic, paper id, version) it carried."""
        with self._writing("; the delivery was not logged"):
            delivery = self._db.execute(
                "INSERT INTO deliveries (recipient, started_at, outcome, error, papers) VALUES (?, ?, ?, ?, ?)",
                (recipient, iso(started_at), outcome, error, len(papers))).lastrowid
            self._db.executemany("INSERT INTO delivery_topics (delivery_id, topic, since) VALUES (?, ?, ?)",
                                 [(delivery, topic, iso(since)) for topic, since in due_since.items()])
            self._db.executemany(
                "INSERT INTO delivered_papers (delivery_id, topic, paper_id, version) VALUES (?, ?, ?, ?)",
                [(delivery, topic, paper_id, version) for topic, paper_id, version in papers])

    # --- reads --------------------------------------------------------------------------------

    def papers(self, topic: str, since: date | None = None, until: date | None = None,
               limit: int | None = None) -> list[Paper]:
        """The topic's papers, newest first (then arXiv id descending), optionally within dates."""
        return list(self.each_paper(topic, since, until, limit))

    def each_paper(self, topic: str, since: date | None = None, until: date | None = None,
                   limit: int | None = None) -> Iterator[Paper]:
        """The papers of `papers()`, read one at a time: a topic of 50,000 is never all in memory."""
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
        try:
            yield from map(_paper, self._db.execute(sql, tuple(params)))
        except sqlite3.DatabaseError as exc:
            raise TopicReportError(f"store {self.path}: {exc}") from None

    def papers_by_id(self, ids: list[str]) -> list[Paper]:
        """The stored papers of these ids (of any topic or none), in the order given; unknown ids left out."""
        found: dict[str, Paper] = {}
        for first in range(0, len(ids), 500):  # SQLite's bound on the parameters of one statement
            chunk = ids[first: first + 500]
            rows = self._query(f"SELECT * FROM papers WHERE id IN ({', '.join('?' * len(chunk))})", tuple(chunk))
            found |= {row["id"]: _paper(row) for row in rows}
        return [found[paper_id] for paper_id in ids if paper_id in found]

    def oldest_published(self, topic: str) -> datetime | None:
        row = self._query(
            "SELECT min(p.published) AS oldest FROM papers p JOIN topic_papers t ON t.paper_id = p.id"
            " WHERE t.topic = ?", (topic,))
        return datetime.fromisoformat(row[0]["oldest"]) if row and row[0]["oldest"] else None

    def count_papers(self) -> int:
        """Papers in the store, of any topic or none."""
        return self._query("SELECT count(*) FROM papers")[0][0]

    def count(self, topic: str) -> int:
        return self._query("SELECT count(*) FROM topic_papers WHERE topic = ?", (topic,))[0][0]

    def count_between(self, topic: str, since: datetime, until: datetime) -> int:
        """How many of the topic's papers were submitted within [since, until]."""
        return self._query(
            "SELECT count(*) FROM papers p JOIN topic_papers t ON t.paper_id = p.id"
            " WHERE t.topic = ? AND p.published BETWEEN ? AND ?", (topic, iso(since), iso(until)))[0][0]

    def ids_between(self, topic: str, since: datetime, until: datetime) -> set[str]:
        """The ids of the topic's papers submitted within [since, until]."""
        return {row[0] for row in self._query(
            "SELECT p.id FROM papers p JOIN topic_papers t ON t.paper_id = p.id"
            " WHERE t.topic = ? AND p.published BETWEEN ? AND ?", (topic, iso(since), iso(until)))}

    def added_since(self, topic: str, moment: datetime) -> int:
        """How many papers joined the topic after `moment`."""
        return self._query(
            "SELECT count(*) FROM topic_papers WHERE topic = ? AND added_at > ?", (topic, iso(moment)))[0][0]

    def joined_since(self, topic: str, moment: datetime) -> set[str]:
        """Ids of the papers that joined the topic after `moment`."""
        rows = self._query("SELECT paper_id FROM topic_papers WHERE topic = ? AND added_at > ?", (topic, iso(moment)))
        return {row[0] for row in rows}

    def fingerprint(self, topic: str, listing: str | None = None) -> str:
        """Changes whenever the topic's stored papers change, or a day of its listing is audited;
        lets a build skip unchanged topics."""
        row = self._query(
            "SELECT count(*), max(p.stored_at), max(t.added_at) FROM topic_papers t"
            " JOIN papers p ON p.id = t.paper_id WHERE t.topic = ?", (topic,))[0]
        audited = self._query("SELECT max(audited_at) FROM audited_days WHERE listing = ?", (listing,))[0][0]
        return f"{row[0]}|{row[1]}|{row[2]}|{audited}"

    def fetch_runs(self, topic: str | None = None) -> list[dict]:
        sql = "SELECT * FROM fetch_runs" + (" WHERE topic = ?" if topic else "") + " ORDER BY id"
        return [dict(row) for row in self._query(sql, (topic,) if topic else ())]

    def matched_terms(self, topic: str) -> dict[str, list[str]]:
        """Per paper id of the topic, which of its terms the paper matched (absent: not known yet)."""
        rows = self._query("SELECT paper_id, matched_terms FROM topic_papers WHERE topic = ?"
                           " AND matched_terms IS NOT NULL", (topic,))
        return {row[0]: json.loads(row[1]) for row in rows}

    def updated_since(self, topic: str, moment: datetime) -> set[str]:
        """Ids of the topic's papers that were there before `moment` and got a new version after it."""
        rows = self._query(
            "SELECT p.id FROM papers p JOIN topic_papers t ON t.paper_id = p.id"
            " WHERE t.topic = ? AND p.stored_at > ? AND t.added_at <= ? AND p.version > 1",
            (topic, iso(moment), iso(moment)))
        return {row[0] for row in rows}

    def keep_claims(self, pin: str, paper_ids: list[str]) -> None:
        """The papers a pinned author's feed claims now (replacing what it claimed before)."""
        self._transaction([("DELETE FROM author_claims WHERE pin = ?", (pin,)),
                           *[("INSERT OR IGNORE INTO author_claims (pin, paper_id) VALUES (?, ?)", (pin, paper_id))
                             for paper_id in paper_ids]])

    def claims(self, pins: list[str]) -> dict[str, set[str]]:
        """Per pin (arXiv author identifier or ORCID iD), the ids its feed claimed at the last fetch."""
        claimed: dict[str, set[str]] = {pin: set() for pin in pins}
        for pin, paper_id in self._query(f"SELECT pin, paper_id FROM author_claims WHERE pin IN ({', '.join('?' * len(pins))})",
                                         tuple(pins)) if pins else []:
            claimed[pin].add(paper_id)
        return claimed

    def revisions(self, topic: str) -> dict[str, Revision]:
        """Per paper of the topic whose stored version replaced an older one in the store, what it changed."""
        rows = self._query(
            "SELECT r.paper_id, r.previous, r.changed FROM revisions r JOIN papers p ON p.id = r.paper_id"
            " JOIN topic_papers t ON t.paper_id = r.paper_id WHERE t.topic = ? AND r.version = p.version", (topic,))
        return {row[0]: Revision(row[1], json.loads(row[2])) for row in rows}

    def topic_state(self, topic: str) -> TopicState | None:
        rows = self._query("SELECT * FROM topic_state WHERE topic = ?", (topic,))
        return _state(rows[0]) if rows else None

    def topic_states(self) -> list[TopicState]:
        return [_state(row) for row in self._query("SELECT * FROM topic_state ORDER BY topic")]

    def coverage(self, topic: str) -> Coverage:
        """The topic's coverage: its last successful run of its own window, and what it holds now."""
        rows = self._query(
            "SELECT finished_at, reported, capped FROM fetch_runs WHERE topic = ? AND outcome = 'ok'"
            " AND (kind IN ('window', 'update') OR (kind IS NULL AND requests > 0))"  # NULL: a fetch logged before v2
            " ORDER BY id DESC LIMIT 1", (topic,))
        state = self.topic_state(topic)
        run = rows[0] if rows else None
        return Coverage(
            last_fetched=datetime.fromisoformat(run["finished_at"]) if run else None,
            reported=run["reported"] if run else None,
            stored=self.count(topic),
            capped=(state.capped_at is not None) if state else bool(run and run["capped"]),
            since=state.covered_since if state else None,
        )

    def due_since(self, recipient: str, topic: str) -> datetime | None:
        """From when the topic's papers are due to `recipient`: its first delivery attempt's start,
        or, before any, the start of the topic's last successful fetch from arXiv (None: never fetched)."""
        rows = self._query(
            "SELECT min(t.since) FROM delivery_topics t JOIN deliveries d ON d.id = t.delivery_id"
            " WHERE d.recipient = ? AND t.topic = ?", (recipient, topic))
        if rows[0][0] is None:
            rows = self._query("SELECT max(started_at) FROM fetch_runs WHERE topic = ? AND outcome = 'ok'"
                               " AND kind IS NOT 'sample' AND requests > 0", (topic,))
        return datetime.fromisoformat(rows[0][0]) if rows[0][0] else None

    def undelivered(self, recipient: str, topic: str, since: datetime) -> tuple[list[Paper], set[str]]:
        """The topic's papers due to `recipient`: joined or revised since `since`, and not sent to it
        at their version yet; newest first. Also the ids among them it was sent an older version of, or
        that joined the topic before `since` (revised, not new)."""
        sent = ("SELECT max(x.version) FROM delivered_papers x JOIN deliveries d ON d.id = x.delivery_id"
                " WHERE d.recipient = :recipient AND d.outcome = 'sent' AND x.topic = t.topic AND x.paper_id = p.id")
        rows = self._query(
            f"SELECT p.*, ({sent}) AS sent_version, t.added_at < :since AS old FROM papers p"
            " JOIN topic_papers t ON t.paper_id = p.id"
            " WHERE t.topic = :topic AND (t.added_at >= :since OR (p.stored_at >= :since AND p.version > 1))"
            f" AND coalesce(({sent}), 0) < p.version ORDER BY p.published DESC, p.id DESC",
            {"recipient": recipient, "topic": topic, "since": iso(since)})
        return [_paper(row) for row in rows], {row["id"] for row in rows if row["sent_version"] or row["old"]}

    def deliveries(self, recipient: str | None = None) -> list[dict]:
        sql = "SELECT * FROM deliveries" + (" WHERE recipient = ?" if recipient else "") + " ORDER BY id"
        return [dict(row) for row in self._query(sql, (recipient,) if recipient else ())]

    def fetch_requests(self, run_id: int) -> list[RequestRecord]:
        rows = self._query("SELECT query, sort_by, start, reported, arrived FROM fetch_requests"
                           " WHERE run_id = ? ORDER BY seq", (run_id,))
        return [RequestRecord(*row) for row in rows]


def _state(row: sqlite3.Row) -> TopicState:
    return TopicState(row["topic"], row["name"], row["definition"], datetime.fromisoformat(row["covered_since"]),
                      datetime.fromisoformat(row["swept_until"]), row["capped_at"])


def _changed(stored: sqlite3.Row, arriving: sqlite3.Row) -> list[str]:
    """Which of REVISED_FIELDS the arriving row differs in from the stored one, as a reader would see
    it: text whose lines were only broken differently, or a comment gone from "" to none, is unchanged."""
    def text(value: str | None) -> str:
        return " ".join((value or "").split())
    return [name for name in REVISED_FIELDS
            if (json.loads(stored[name]) != json.loads(arriving[name]) if name == "authors"
                else text(stored[name]) != text(arriving[name]))]


def _describe(exc: sqlite3.DatabaseError) -> str:
    """SQLite's message, saying plainly when the disk is full (SQLite's "database or disk is full")."""
    if getattr(exc, "sqlite_errorname", None) == "SQLITE_FULL" or str(exc) == "database or disk is full":
        return f"disk full ({exc})"
    return str(exc)


def _is_writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
