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
from datetime import date, datetime, timezone
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from topic_report import TopicReportError
from topic_report.arxiv.query import OPERATORS, SYNTAX_CHARACTERS, QueryCheck, query_phrases, words

DEFAULT_CONFIG = Path("topics.yml")
CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# A topic's outputs are <slug>.html, <slug>.md, <slug>_files/… beside what the site itself writes
# there: nbconvert's index.html; Quarto's index.html, search.json, site_libs/, and sitemap.xml,
# listings.json, 404.html, robots.txt when so configured. A slug among these would overwrite one.
RESERVED_SLUGS = ("index", "search", "sitemap", "listings", "404", "robots")
# arXiv's first paper (hep-th/9108001) was submitted on this day: nothing is older.
ARXIV_FIRST_DAY = date(1991, 8, 14)


def _utc_today() -> date:
    return datetime.now(timezone.utc).date()


def _contains(haystack: list[str], phrase: list[str]) -> bool:
    return bool(phrase) and f" {' '.join(phrase)} " in f" {' '.join(haystack)} "


def _check_phrases(values: list[str], what: str) -> list[str]:
    cleaned = [" ".join(v.split()) for v in values]
    for phrase in cleaned:
        if not phrase:
            raise ValueError(f"a{'n' if what[0] in 'aeiou' else ''} {what} is empty")
        if '"' in phrase:
            raise ValueError(f"{what} {phrase!r} must not contain double quotes")
        if not words(phrase):
            raise ValueError(f"{what} {phrase!r} has no letters or digits")
        if all(w in OPERATORS for w in SYNTAX_CHARACTERS.sub(" ", phrase).split()):
            raise ValueError(f"{what} {phrase!r} is an operator of arXiv's query syntax, not a phrase")
    return cleaned


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

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # Line breaks and other control characters would break out of the page's title, the
        # navbar and the Quarto files the name is written into.
        if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
            raise ValueError("must be one line of text, without line breaks or control characters")
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

    @field_validator("window_days")
    @classmethod
    def _window_days(cls, value: int) -> int:
        longest = (_utc_today() - ARXIV_FIRST_DAY).days
        if value > longest:
            raise ValueError(f"{value} days reaches back before arXiv's first paper ({ARXIV_FIRST_DAY}); "
                             f"at most {longest}")
        return value

    @field_validator("since")
    @classmethod
    def _since(cls, value: date | None) -> date | None:
        if value is not None and value < ARXIV_FIRST_DAY:
            raise ValueError(f"{value} is before arXiv's first paper ({ARXIV_FIRST_DAY})")
        if value is not None and value > _utc_today():
            raise ValueError(f"{value} is in the future")
        return value

    @field_validator("terms")
    @classmethod
    def _terms(cls, values: list[str]) -> list[str]:
        return _check_phrases(values, "query term")

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, values: list[str]) -> list[str]:
        return _check_phrases(values, "exclude phrase")

    @field_validator("query")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        if value is not None:
            value = " ".join(value.split())
            QueryCheck(value).phrases()  # raises ValueError saying what is wrong
        return value

    @model_validator(mode="after")
    def _terms_or_query(self) -> "Topic":
        if self.query is not None and (self.terms or self.categories):
            raise ValueError("give either query, or terms (and categories), not both")
        if self.query is None and not self.terms:
            raise ValueError("terms: give at least one term (or a query)")
        return self

    @property
    def search_terms(self) -> list[str]:
        """The phrases the topic looks for in titles and abstracts: its terms, or the positive
        ti:/abs:/all: values of its query."""
        return list(self.terms) if self.query is None else list(query_phrases(self.query))

    def matched_terms(self, title: str, abstract: str) -> list[str]:
        """Which of the topic's search terms a paper's title or abstract holds (as arXiv matches them)."""
        title_words, abstract_words = words(title), words(abstract)
        return [term for term in self.search_terms
                if _contains(title_words, words(term)) or _contains(abstract_words, words(term))]

    def terms_matched(self, papers) -> dict[str, list[str]]:
        """Per paper id, `matched_terms` of each paper (anything with id, title and abstract)."""
        return {p.id: self.matched_terms(p.title, p.abstract) for p in papers}

    def excluded(self, title: str, abstract: str) -> bool:
        """Whether a paper's title or abstract holds one of the topic's exclude phrases."""
        title_words, abstract_words = words(title), words(abstract)
        return any(_contains(title_words, words(p)) or _contains(abstract_words, words(p)) for p in self.exclude)

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
        keys = ("terms", "exclude", "categories", "query", "since", "window_days")
        text = json.dumps(self.model_dump(mode="json", include=set(keys)), sort_keys=True)
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
    topics: list[Topic] = Field(min_length=1)

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, values: list[str]) -> list[str]:
        return _check_phrases(values, "exclude phrase")

    @model_validator(mode="after")
    def _shared_exclude(self) -> "TopicsFile":
        """The top-level exclude applies to every topic: it becomes part of each one's own."""
        if self.exclude:
            self.topics = [t.model_copy(update={"exclude": list(dict.fromkeys([*t.exclude, *self.exclude]))})
                           for t in self.topics]
        return self

    @model_validator(mode="after")
    def _unique(self) -> "TopicsFile":
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
        return TopicsFile.model_validate(data).topics
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
