"""Load and validate `topics.yml`: each topic's name, slug, what it matches (terms, exclude,
categories, or an arXiv query of its own), its window and cap.

Text matching follows arXiv's: case-insensitive, on words (runs of letters and digits), a phrase
matching where its words appear consecutively, so "3D reconstruction" matches "3D-Reconstruction".
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from topic_report import TopicReportError
from topic_report.arxiv.query import (
    CATEGORY,
    OPERATORS,
    SYNTAX_CHARACTERS,
    WORD,
    QueryCheck,
    check_query_size,
    query_phrases,
    words,
)
from topic_report.notify_config import Notify

DEFAULT_CONFIG = Path("topics.yml")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# A topic's outputs are <slug>.html, <slug>.md, <slug>_files/… beside what the site itself writes
# there: nbconvert's index.html; Quarto's index.html, search.json, site_libs/, and sitemap.xml,
# listings.json, 404.html, robots.txt when so configured. A slug among these would overwrite one.
# And all.atom, the feed of every topic, beside <slug>.atom (helpers/exports.py).
RESERVED_SLUGS = ("index", "search", "sitemap", "listings", "404", "robots", "all")
# arXiv's first paper (hep-th/9108001) was submitted on this day: nothing is older.
ARXIV_FIRST_DAY = date(1991, 8, 14)
# More papers than arXiv holds (about 2.5 million): a larger cap or digest means nothing, and
# SQLite's integers end not far above.
MAX_PAPERS = 10_000_000
# Characters that do not show as themselves: controls (NUL, BEL, ESC…), format characters (ZWJ,
# the bidirectional overrides such as U+202E, which reverse text in the terminal and the navbar),
# line and paragraph separators, surrogates, private use. In a term or query they reach arXiv as
# they are and, as a chart label, break the page; in a name they break or disguise its line.
HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def utc_today() -> date:
    return datetime.now(UTC).date()


class Words:
    """A text's words as arXiv matches them, and where each stands in the text: the project's one
    phrase matcher (topics, exclusion, ranking, highlighting and the explore notebook's search)."""

    def __init__(self, text: str | None):
        found = list(WORD.finditer(text or ""))  # spans in the text as given (lower-casing may change lengths)
        self.spans = [match.span() for match in found]
        lowered = [match[0].lower() for match in found]
        self._joined = " " + " ".join(lowered) + " "
        # Offset of each word in the joined text: a phrase found there is found among the words.
        self._starts, offset = {}, 1
        for index, word in enumerate(lowered):
            self._starts[offset] = index
            offset += len(word) + 1

    def find(self, phrase: str) -> list[tuple[int, int]]:
        """(start, end) in the text of each occurrence of the phrase, overlapping ones included."""
        phrase_words = words(phrase)
        if not phrase_words:
            return []
        needle, found = f" {' '.join(phrase_words)} ", []
        at = self._joined.find(needle)
        while at >= 0:
            first = self._starts[at + 1]
            found.append((self.spans[first][0], self.spans[first + len(phrase_words) - 1][1]))
            at = self._joined.find(needle, at + 1)
        return found

    def count(self, phrase: str) -> int:
        return len(self.find(phrase))

    def __contains__(self, phrase: str) -> bool:
        phrase_words = words(phrase)
        return bool(phrase_words) and f" {' '.join(phrase_words)} " in self._joined


def paper_count(value: int) -> int:
    """A cap on papers or a digest's length, bounded (MAX_PAPERS); raises ValueError past it."""
    if value > MAX_PAPERS:
        raise ValueError(f"{value:,} is more papers than arXiv holds; at most {MAX_PAPERS:,}")
    return value


def arxiv_day(day: date) -> date:
    """A day of arXiv's life: not before its first paper, not after today; raises ValueError else."""
    if day < ARXIV_FIRST_DAY:
        raise ValueError(f"{day} is before arXiv's first paper ({ARXIV_FIRST_DAY})")
    if day > utc_today():
        raise ValueError(f"{day} is in the future")
    return day


def _hidden_character(text: str) -> str | None:
    """The first character of `text` that does not show as itself, as U+XXXX; None if none."""
    return next((f"U+{ord(char):04X}" for char in text if unicodedata.category(char) in HIDDEN_CATEGORIES), None)


def _check_phrases(values: list[str], what: str) -> list[str]:
    cleaned = [" ".join(v.split()) for v in values]
    for phrase in cleaned:
        if hidden := _hidden_character(phrase):
            raise ValueError(f"{what} {phrase!r} holds {hidden}, a control or format character")
        if not phrase:
            raise ValueError(f"a{'n' if what[0] in 'aeiou' else ''} {what} is empty")
        if '"' in phrase:
            raise ValueError(f"{what} {phrase!r} must not contain double quotes")
        if not words(phrase):
            raise ValueError(f"{what} {phrase!r} has no letters or digits")
        if all(w in OPERATORS for w in SYNTAX_CHARACTERS.sub(" ", phrase).split()):
            raise ValueError(f"{what} {phrase!r} is an operator of arXiv's query syntax, not a phrase")
    return cleaned


# arXiv's identifiers: new style (2602.09934) and old (hep-th/9108001), without version.
ARXIV_PAPER_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$")
# An arXiv author identifier (drettakis_g_1), or an ORCID iD linked to an arXiv account; arXiv
# serves the author's papers at https://arxiv.org/a/<either>.atom2.
ARXIV_AUTHOR_ID = re.compile(r"^[a-z][a-z0-9_]*_\d+$")
ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")


class Author(BaseModel):
    """A followed author: a name as arXiv writes it, optionally pinned to one person by arXiv's
    author identifier or an ORCID iD (arXiv's `au:` search matches names, not people)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    arxiv_id: str | None = Field(default=None, description="arXiv author identifier, e.g. drettakis_g_1")
    orcid: str | None = Field(default=None, description="ORCID iD linked to the author's arXiv account")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value):
        return {"name": value} if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not words(value):
            raise ValueError(f"author {value!r} has no letters")
        if '"' in value or SYNTAX_CHARACTERS.search(value):
            raise ValueError(f"author {value!r} holds characters of arXiv's query syntax")
        return value

    @field_validator("arxiv_id")
    @classmethod
    def _arxiv_id(cls, value: str | None) -> str | None:
        if value is not None and not ARXIV_AUTHOR_ID.match(value):
            raise ValueError(f"{value!r} is not an arXiv author identifier such as drettakis_g_1")
        return value

    @field_validator("orcid")
    @classmethod
    def _orcid(cls, value: str | None) -> str | None:
        if value is not None and not ORCID.match(value):
            raise ValueError(f"{value!r} is not an ORCID iD such as 0000-0002-1825-0097")
        return value

    @model_validator(mode="after")
    def _one_pin(self) -> Author:
        if self.arxiv_id and self.orcid:
            raise ValueError(f"author {self.name!r}: give arxiv_id or orcid, not both")
        return self

    @property
    def pin(self) -> str | None:
        """The identifier of arXiv's feed of this person's papers, when pinned."""
        return self.arxiv_id or self.orcid

    def wrote(self, authors: list[str]) -> bool:
        """Whether the name is among a paper's authors (as arXiv matches names: words, any case)."""
        return any(words(name) == words(self.name) for name in authors)


class Weights(BaseModel):
    """How much each signal adds to a paper's relevance score (helpers/ranking.py); a topic's
    `ranking:` may change any of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: float = Field(default=2.0, ge=0, description="the topic's name stands in the title or abstract")
    title: float = Field(default=3.0, ge=0, description="per distinct term in the title")
    abstract: float = Field(default=1.0, ge=0, description="per distinct term only in the abstract")
    comment: float = Field(default=0.5, ge=0, description="per distinct term only in the comment")
    frequency: float = Field(default=0.5, ge=0, description="times log2(1 + occurrences of all terms)")
    primary_category: float = Field(default=1.0, ge=0, description="the primary category is one of the topic's")
    cross_list: float = Field(default=0.3, ge=0, description="only cross-listed in one of the topic's categories")
    author: float = Field(default=100.0, ge=0, description="a followed author wrote it")
    like: float = Field(default=10.0, ge=0, description="times the TF-IDF cosine to the nearest example")
    weak_below: float = Field(default=3.0, ge=0, description="a score below this is a weak match")
    terms: dict[str, float] = Field(default_factory=dict,
                                    description="per term, a factor on its field and frequency signals (default 1)")

    @field_validator("terms")
    @classmethod
    def _term_factors(cls, values: dict[str, float]) -> dict[str, float]:
        for term, factor in values.items():
            if factor < 0:
                raise ValueError(f"term {term!r}: the factor must be 0 or more, not {factor}")
        return values

    def term(self, term: str) -> float:
        """The factor of one of the topic's terms."""
        return self.terms.get(term, 1.0)


class Topic(BaseModel):
    """One research topic: what to ask arXiv for, and how much."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    slug: str
    terms: list[str] = Field(default_factory=list, description="phrases searched in titles and abstracts")
    exclude: list[str] = Field(default_factory=list, description="phrases that keep a paper out of the topic")
    categories: list[str] = Field(default_factory=list, description="arXiv categories; empty means any")
    query: str | None = Field(default=None, description="an arXiv search query, instead of terms and categories")
    window_days: int = Field(default=30, ge=1, description="how far back a first fetch reaches")
    lookback_days: int = Field(default=7, ge=0, le=365,
                               description="how late after its submission a paper may appear and still be fetched")
    max_results: int = Field(default=10_000, ge=1, description="cap on papers fetched per run")
    digest_limit: int = Field(default=25, ge=1, description="papers shown in the digest")
    since: date | None = Field(default=None, description="fixed start instead of the rolling window")
    authors: list[Author] = Field(default_factory=list, description="followed authors: their papers join and rank first")
    like: list[str] = Field(default_factory=list, description="arXiv ids of example papers: papers near them rank higher")
    ranking: Weights = Field(default_factory=Weights, description="the weights of the relevance score")
    order: Literal["score", "date"] = Field(default="score", description="how 'What is new' is ordered")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # Line breaks and other control characters would break out of the page's title, the
        # navbar and the Quarto files the name is written into.
        if hidden := _hidden_character(value):
            raise ValueError(f"must be one line of text, without line breaks, control or format characters ({hidden})")
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be lowercase letters, digits and single dashes, e.g. 3d-reconstruction")
        if value in RESERVED_SLUGS:
            raise ValueError(f"{value!r} is reserved for the site's own files ({', '.join(RESERVED_SLUGS)})")
        return value

    @field_validator("max_results", "digest_limit")
    @classmethod
    def _paper_count(cls, value: int) -> int:
        return paper_count(value)

    @field_validator("window_days")
    @classmethod
    def _window_days(cls, value: int) -> int:
        longest = (utc_today() - ARXIV_FIRST_DAY).days
        if value > longest:
            raise ValueError(f"{value} days reaches back before arXiv's first paper ({ARXIV_FIRST_DAY}); "
                             f"at most {longest}")
        return value

    @field_validator("since")
    @classmethod
    def _since(cls, value: date | None) -> date | None:
        return value if value is None else arxiv_day(value)

    @field_validator("terms")
    @classmethod
    def _terms(cls, values: list[str]) -> list[str]:
        return _check_phrases(values, "query term")

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, values: list[str]) -> list[str]:
        return _check_phrases(values, "exclude phrase")

    @field_validator("like", mode="before")
    @classmethod
    def _like_as_text(cls, values):
        # YAML reads 2606.31050 as the number 2606.3105: the id is lost before it arrives here.
        if isinstance(values, list) and any(isinstance(value, (int, float)) for value in values):
            raise ValueError("an arXiv id was read as a number: quote each id, e.g. like: ['2606.31050']")
        return values

    @field_validator("like")
    @classmethod
    def _like(cls, values: list[str]) -> list[str]:
        for value in values:
            if not ARXIV_PAPER_ID.match(value):
                raise ValueError(f"{value!r} is not an arXiv id such as 2602.09934 (without version)")
        return list(dict.fromkeys(values))

    @field_validator("query")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        if value is not None:
            value = " ".join(value.split())
            if hidden := _hidden_character(value):
                raise ValueError(f"holds {hidden}, a control or format character")
            QueryCheck(value).phrases()  # raises ValueError saying what is wrong
        return value

    @model_validator(mode="after")
    def _weighted_terms_are_terms(self) -> Topic:
        unknown = [term for term in self.ranking.terms if term not in self.search_terms]
        if unknown:
            raise ValueError(f"ranking: terms: {unknown[0]!r} is not one of the topic's terms")
        return self

    @model_validator(mode="after")
    def _terms_or_query(self) -> Topic:
        if self.query is not None and (self.terms or self.categories):
            raise ValueError("give either query, or terms (and categories), not both")
        if self.query is None and not self.terms:
            raise ValueError("terms: give at least one term (or a query)")
        check_query_size(self)
        return self

    @property
    def search_terms(self) -> list[str]:
        """The phrases the topic looks for in titles and abstracts: its terms, or the positive
        ti:/abs:/all: values of its query."""
        return list(self.terms) if self.query is None else list(query_phrases(self.query))

    def matched_terms(self, title: str, abstract: str) -> list[str]:
        """Which of the topic's search terms a paper's title or abstract holds (as arXiv matches them)."""
        title_words, abstract_words = Words(title), Words(abstract)
        return [term for term in self.search_terms if term in title_words or term in abstract_words]

    def terms_matched(self, papers) -> dict[str, list[str]]:
        """Per paper id, `matched_terms` of each paper (anything with id, title and abstract)."""
        return {p.id: self.matched_terms(p.title, p.abstract) for p in papers}

    def excluded(self, title: str, abstract: str) -> bool:
        """Whether a paper's title or abstract holds one of the topic's exclude phrases."""
        title_words, abstract_words = Words(title), Words(abstract)
        return any(phrase in title_words or phrase in abstract_words for phrase in self.exclude)

    @property
    def excluded_terms(self) -> dict[str, str]:
        """Search terms an exclude phrase rules out whole (term: phrase): every paper that holds
        the term holds the phrase too, so the term brings nothing."""
        return {term: phrase for term in self.search_terms for phrase in self.exclude
                if phrase in Words(term)}

    def matches(self, title: str, abstract: str, categories) -> bool:
        """Whether a paper of these title, abstract and categories is in the topic, as arXiv's search
        matches its terms (a topic with its own query: only arXiv's search can say)."""
        return (self.query is None and bool(self.matched_terms(title, abstract))
                and not self.excluded(title, abstract)
                and (not self.categories or bool(set(categories) & set(self.categories))))

    @property
    def definition(self) -> str:
        """A fingerprint of what the topic matches and how far back: when it changes, the topic's
        whole window is fetched again."""
        keys = {"terms", "exclude", "categories", "query", "since", "window_days"}
        if self.authors:  # only when given, so that topics without authors keep their fingerprint
            keys.add("authors")
        text = json.dumps(self.model_dump(mode="json", include=keys), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @field_validator("categories")
    @classmethod
    def _categories(cls, values: list[str]) -> list[str]:
        for value in values:
            if not CATEGORY.match(value):
                raise ValueError(f"{value!r} is not an arXiv category such as cs.CV")
        return values


class TopicsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exclude: list[str] = Field(default_factory=list, description="phrases that keep a paper out of every topic")
    authors: list[Author] = Field(default_factory=list, description="authors followed in every topic")
    topics: list[Topic] = Field(min_length=1)
    notify: Notify = Field(default_factory=Notify, description="mail and webhook deliveries after a build")

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, values: list[str]) -> list[str]:
        return _check_phrases(values, "exclude phrase")

    @model_validator(mode="after")
    def _shared_exclude(self) -> TopicsFile:
        """The top-level exclude applies to every topic: it becomes part of each one's own."""
        if self.exclude:
            self.topics = [t.model_copy(update={"exclude": list(dict.fromkeys([*t.exclude, *self.exclude]))})
                           for t in self.topics]
            for topic in self.topics:
                try:
                    check_query_size(topic)
                except ValueError as exc:
                    raise ValueError(f"topic {topic.name!r}: {exc} (the top-level exclude counts for every topic)") from None
        return self

    @model_validator(mode="after")
    def _shared_authors(self) -> TopicsFile:
        """The top-level authors are followed in every topic, besides each one's own."""
        if self.authors:
            self.topics = [t.model_copy(update={"authors": list(dict.fromkeys([*t.authors, *self.authors]))})
                           for t in self.topics]
        return self

    @model_validator(mode="after")
    def _unique(self) -> TopicsFile:
        for key in ("slug", "name"):
            seen: set[str] = set()
            for topic in self.topics:
                value = getattr(topic, key).lower()
                if value in seen:
                    raise ValueError(f"duplicate topic {key} {getattr(topic, key)!r}")
                seen.add(value)
        # A name is looked up after the slugs (`select`): one equal to another topic's slug
        # could never be selected by it, and would look like the other topic.
        slugs = {topic.slug: topic for topic in self.topics}
        for topic in self.topics:
            other = slugs.get(topic.name.lower())
            if other is not None and other is not topic:
                raise ValueError(f"topic name {topic.name!r} is the slug of topic {other.name!r}")
        return self

    @model_validator(mode="after")
    def _notified_topics_exist(self) -> TopicsFile:
        slugs = [topic.slug for topic in self.topics]
        for channel in self.notify.channels:
            unknown = [slug for slug in channel.topics or () if slug not in slugs]
            if unknown:
                raise ValueError(f"notify: unknown topic slug {unknown[0]!r}; the topics' slugs are {', '.join(slugs)}")
        return self


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay text, so pydantic validates them per topic."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _topic_lines(text: str) -> list[tuple[int, str]]:
    """(line, name) of each topic entry, so errors can point at the right place."""
    root = yaml.compose(text, Loader=_Loader)
    if root is None or not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "topics" and isinstance(value, yaml.SequenceNode):
            found = []
            for item in value.value:
                name = ""
                if isinstance(item, yaml.MappingNode):
                    name = next((v.value for k, v in item.value if k.value == "name" and hasattr(v, "value")), "")
                found.append((item.start_mark.line + 1, str(name)))
            return found
    return []


def _describe(error: dict, path: Path, lines: list[tuple[int, str]]) -> str:
    loc = list(error["loc"])
    where = str(path)
    if len(loc) >= 2 and loc[0] == "topics" and isinstance(loc[1], int) and loc[1] < len(lines):
        line, name = lines[loc[1]]
        where = f"{path}:{line}: topic {name or '#' + str(loc[1] + 1)!r}"
        loc = loc[2:]
    key = ".".join(str(part) for part in loc)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {key + ': ' if key else ''}{message}"


def load_topics(path: Path | str = DEFAULT_CONFIG) -> list[Topic]:
    """The topics of the topics file (`load_config`)."""
    return load_config(path).topics


def load_config(path: Path | str = DEFAULT_CONFIG) -> TopicsFile:
    """Parse and validate the topics file; raise TopicReportError with one line naming topic and key."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TopicReportError(f"cannot read topics file {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise TopicReportError(f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x}); "
                               f"save the file as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_Loader)
        lines = _topic_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TopicReportError(f"{path}{at}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise TopicReportError(f"{path}: expected a mapping with a 'topics' list")
    try:
        return TopicsFile.model_validate(data)
    except ValidationError as exc:
        raise TopicReportError(_describe(exc.errors()[0], path, lines)) from None


def select(topics: list[Topic], names: list[str] | None) -> list[Topic]:
    """The topics named (by slug first, then by name; case-insensitive), or all of them when none are named."""
    if not names:
        return topics
    chosen = []
    for wanted in names:
        key = wanted.lower()
        match = (next((t for t in topics if t.slug == key), None)
                 or next((t for t in topics if t.name.lower() == key), None))
        if match is None:
            known = ", ".join(repr(t.name) for t in topics)
            raise TopicReportError(f"unknown topic {wanted!r}; known topics: {known}")
        if match not in chosen:
            chosen.append(match)
    return chosen
