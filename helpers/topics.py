"""Load and validate `topics.yml`: each topic's name, slug, query terms, categories, window and cap."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from helpers import TopicReportError

DEFAULT_CONFIG = Path("topics.yml")
CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Topic(BaseModel):
    """One research topic: what to ask arXiv for, and how much."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    slug: str
    terms: list[str] = Field(min_length=1, description="phrases searched in titles and abstracts")
    categories: list[str] = Field(default_factory=list, description="arXiv categories; empty means any")
    window_days: int = Field(default=30, ge=1, description="how far back a first fetch reaches")
    max_results: int = Field(default=10_000, ge=1, description="cap on papers fetched per run")
    digest_limit: int = Field(default=25, ge=1, description="papers shown in the digest")
    since: date | None = Field(default=None, description="fixed start instead of the rolling window")

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be lowercase letters, digits and single dashes, e.g. 3d-reconstruction")
        return value

    @field_validator("terms")
    @classmethod
    def _terms(cls, values: list[str]) -> list[str]:
        cleaned = [" ".join(v.split()) for v in values]
        for term in cleaned:
            if not term:
                raise ValueError("a query term is empty")
            if '"' in term:
                raise ValueError(f"term {term!r} must not contain double quotes")
        return cleaned

    @field_validator("categories")
    @classmethod
    def _categories(cls, values: list[str]) -> list[str]:
        for value in values:
            if not CATEGORY.match(value):
                raise ValueError(f"{value!r} is not an arXiv category such as cs.CV")
        return values


class TopicsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topics: list[Topic] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "TopicsFile":
        for key in ("slug", "name"):
            seen: set[str] = set()
            for topic in self.topics:
                value = getattr(topic, key).lower()
                if value in seen:
                    raise ValueError(f"duplicate topic {key} {getattr(topic, key)!r}")
                seen.add(value)
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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TopicReportError(f"cannot read topics file {path}: {exc.strerror or exc}") from None
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
    """The topics named (by name or slug, case-insensitive), or all of them when none are named."""
    if not names:
        return topics
    chosen = []
    for wanted in names:
        match = [t for t in topics if wanted.lower() in (t.name.lower(), t.slug)]
        if not match:
            known = ", ".join(repr(t.name) for t in topics)
            raise TopicReportError(f"unknown topic {wanted!r}; known topics: {known}")
        chosen.extend(t for t in match if t not in chosen)
    return chosen
