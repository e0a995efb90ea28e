"""A topic as arXiv's search query text, the checker of a topic's own query, and the request URL.

The syntax is the API's (arXiv API User's Manual, "Details of Query Construction", in the
arXiv/arxiv-docs repository): `field:value` terms joined by AND, OR, ANDNOT, grouped by
parentheses, a value being a word or a "double-quoted phrase"; dates as
`submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    import arxiv

    from topic_report.topics import Topic

WORD = re.compile(r"[^\W_]+")
OPERATORS = ("AND", "OR", "ANDNOT")
# Characters with a meaning in arXiv's query syntax even inside a quoted phrase. None is a letter
# or digit, so arXiv's matching ignores them: they become spaces in the phrase sent.
SYNTAX_CHARACTERS = re.compile(r'[()\[\]{}:\\]')
# Fields of arXiv's search_query: title, author, abstract, comment, journal ref, category,
# report number, id, all of them. Dates are the window's business, not the query's.
QUERY_FIELDS = ("ti", "au", "abs", "co", "jr", "cat", "rn", "id", "all")
TEXT_FIELDS = ("ti", "abs", "all")  # the fields whose values are phrases matched in title or abstract


def words(text: str | None) -> list[str]:
    """The words arXiv matches on: runs of letters and digits, lower-cased."""
    return WORD.findall((text or "").lower())


def quote_phrase(term: str) -> str:
    """A term as a double-quoted phrase of arXiv's query syntax that means just the term: characters
    of the syntax become spaces, operator words are lower-cased (arXiv's matching ignores both)."""
    spaced = SYNTAX_CHARACTERS.sub(" ", term).split()
    return '"' + " ".join(w.lower() if w in OPERATORS else w for w in spaced) + '"'


@dataclass(frozen=True)
class Window:
    """Submission-date window of a query, both ends inclusive, minute precision."""

    since: datetime
    until: datetime

    def halves(self) -> tuple["Window", "Window"]:
        middle = self.since + (self.until - self.since) / 2
        middle = middle.replace(second=0, microsecond=0)
        return Window(middle + timedelta(minutes=1), self.until), Window(self.since, middle)

    def clause(self) -> str:
        return f"submittedDate:[{self.since:%Y%m%d%H%M} TO {self.until:%Y%m%d%H%M}]"


def _phrases(phrases: list[str]) -> str:
    return "(" + " OR ".join(f"ti:{quote_phrase(p)} OR abs:{quote_phrase(p)}" for p in phrases) + ")"


def build_query(topic: Topic, window: Window | None = None) -> str:
    """`(ti:"t" OR abs:"t" …) AND (cat:a OR cat:b …) ANDNOT (ti:"x" OR abs:"x" …) AND submittedDate:[… TO …]`,
    or `(<the topic's own query>) ANDNOT (…) AND submittedDate:[…]`."""
    if topic.query is not None:
        query = f"({topic.query})"
    else:
        query = _phrases(topic.terms)
        if topic.categories:
            query += " AND (" + " OR ".join(f"cat:{c}" for c in topic.categories) + ")"
    if topic.exclude:
        query += " ANDNOT " + _phrases(topic.exclude)
    if window:
        query += " AND " + window.clause()
    return query


def request_url(api_url: str, search: arxiv.Search, start: int, page_size: int) -> str:
    """The API request for one page of `search`: the parameters of the API User's Manual
    ("Query Interface"), from the public attributes of the `arxiv` package's Search."""
    return api_url + "?" + urlencode({
        "search_query": search.query,
        "id_list": ",".join(search.id_list),
        "sortBy": search.sort_by.value,
        "sortOrder": search.sort_order.value,
        "start": str(start),
        "max_results": str(page_size),
    })


class QueryCheck:
    """Checks a topic's arXiv query before any request, and finds the phrases it searches for.

    Grammar (arXiv's): term ((AND | OR | ANDNOT) term)*; a term is `( … )`, `field:value` or a bare
    value (meaning all:); a value is a word or a "quoted phrase". Raises ValueError saying what is wrong.
    """

    TOKEN = re.compile(r'\s*(?:(?P<paren>[()])|(?P<field>[A-Za-z]+):|"(?P<phrase>[^"]*)"|(?P<open>")'
                       r'|(?P<word>[^\s()"]+))')

    def __init__(self, query: str):
        self.tokens: list[tuple[str, str]] = []
        for match in self.TOKEN.finditer(query):
            kind = match.lastgroup
            if kind == "open":
                raise ValueError("a double quote is not closed")
            self.tokens.append((kind, match[kind]))
        if not self.tokens:
            raise ValueError("is empty")
        self.i = 0

    def phrases(self) -> list[str]:
        found: list[str] = []
        self._expression(found, negated=False)
        if self.i < len(self.tokens):
            kind, text = self.tokens[self.i]
            raise ValueError("unbalanced parentheses: ')' without '('" if text == ")"
                             else f"{text!r} follows a term without AND, OR or ANDNOT between them")
        return list(dict.fromkeys(found))

    def _next(self) -> tuple[str, str] | None:
        token = self.tokens[self.i] if self.i < len(self.tokens) else None
        self.i += token is not None
        return token

    def _expression(self, found: list[str], negated: bool) -> None:
        self._term(found, negated)
        while self.i < len(self.tokens) and self.tokens[self.i] in [("word", op) for op in OPERATORS]:
            operator = self._next()[1]
            self._term(found, negated or operator == "ANDNOT")

    def _term(self, found: list[str], negated: bool) -> None:
        token = self._next()
        if token is None:
            raise ValueError("ends where a term is expected")
        kind, text = token
        if token == ("paren", "("):
            self._expression(found, negated)
            if self._next() != ("paren", ")"):
                raise ValueError("unbalanced parentheses: '(' without ')'")
            return
        field = "all"
        if kind == "field":
            field = text
            if field not in QUERY_FIELDS:
                hint = " (dates are set by since and window_days)" if field.endswith("Date") else ""
                raise ValueError(f"unknown field {field + ':'!r}{hint}; arXiv's fields are "
                                 + ", ".join(f + ":" for f in QUERY_FIELDS))
            token = self._next()
            if token is None or token[0] not in ("word", "phrase") or token[1] in OPERATORS:
                raise ValueError(f"{field}: has no value")
            kind, text = token
        if kind == "paren":
            raise ValueError("unbalanced parentheses: ')' without '('" if text == ")" else "'(' after a term")
        if kind == "word" and text in OPERATORS:
            raise ValueError(f"{text} needs a term on each side")
        if not words(text):
            raise ValueError(f'{field}:"{text}" is an empty phrase' if kind == "phrase"
                             else f"{field}:{text} has no letters or digits")
        if field in TEXT_FIELDS and not negated:
            found.append(" ".join(text.split()))


@lru_cache(maxsize=256)
def query_phrases(query: str) -> tuple[str, ...]:
    """The phrases a (checked) query searches for in titles and abstracts."""
    return tuple(QueryCheck(query).phrases())
