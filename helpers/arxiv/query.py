"""A topic as arXiv's search query text, the checker of a topic's own query, and the request URL.

The syntax is the API's (arXiv API User's Manual, section 5.1 "Details of Query Construction",
in the arXiv/arxiv-docs repository, source/help/api/user-manual.md): `field:value` terms joined
by the Boolean operators AND, OR, ANDNOT, grouped by parentheses, a value being a word or a
"double-quoted phrase"; nothing else. The search engine behind it reads more than the manual
documents (Lucene's wildcards `*` `?`, fuzzy `~`, boost `^`, ranges `[…]` `{…}`, the backslash
escape, required and prohibited marks `+` `-` `!`), so a topic's own query holding one of those
would ask arXiv something other than it says (`ti:[video` swallows the date clause that follows
and arXiv answers HTTP 400): the checker refuses them, as `categories: [cs.*]` is refused.
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
CATEGORY = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")  # an arXiv category: cs.CV, hep-th, math.AG
# Characters of the engine's syntax that the API manual does not document (see above): anywhere in
# a value, and Lucene's required / prohibited marks at the start of a word.
UNDOCUMENTED = re.compile(r"[\[\]{}~^?*\\:]")
UNDOCUMENTED_PREFIXES = ("+", "-", "!")
# Deeper nesting than anyone writes by hand; the checker recurses once per level.
MAX_NESTING = 32
# The manual gives no limit on a request; web servers commonly refuse a request line past 8 KB
# (Apache's LimitRequestLine: 8,190 bytes), and the API URL and the paging parameters need the rest.
MAX_QUERY_BYTES = 7_500


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

    def halves(self) -> tuple[Window, Window]:
        middle = self.since + (self.until - self.since) / 2
        middle = middle.replace(second=0, microsecond=0)
        return Window(middle + timedelta(minutes=1), self.until), Window(self.since, middle)

    def clause(self) -> str:
        return f"submittedDate:[{self.since:%Y%m%d%H%M} TO {self.until:%Y%m%d%H%M}]"


# The date clause has one length whatever its dates: any window measures a query.
_ANY_WINDOW = Window(datetime(2000, 1, 1), datetime(2000, 1, 1))


def _phrases(phrases: list[str]) -> str:
    return "(" + " OR ".join(f"ti:{quote_phrase(p)} OR abs:{quote_phrase(p)}" for p in phrases) + ")"


def query_bytes(topic: Topic) -> int:
    """How much of a request the topic's query takes, its date clause included, URL-encoded."""
    return len(urlencode({"search_query": build_query(topic, _ANY_WINDOW)}))


def check_query_size(topic: Topic) -> None:
    """Raises ValueError when the topic's query is longer than one request may carry."""
    size = query_bytes(topic)
    if size > MAX_QUERY_BYTES:
        raise ValueError(f"its arXiv query takes {size:,} bytes of the request, more than the {MAX_QUERY_BYTES:,} "
                         "one request may carry; shorten its terms, query or exclude phrases")


def build_query(topic: Topic, window: Window | None = None) -> str:
    """`(ti:"t" OR abs:"t" …) AND (cat:a OR cat:b …) ANDNOT (ti:"x" OR abs:"x" …) AND submittedDate:[… TO …]`,
    or `(<the topic's own query>) ANDNOT (…) AND submittedDate:[…]`. Followed authors not pinned to
    one person widen the first part: `((…) AND (cat:…) OR (au:"name" OR …)) ANDNOT …`."""
    if topic.query is not None:
        query = f"({topic.query})"
    else:
        query = _phrases(topic.terms)
        if topic.categories:
            query += " AND (" + " OR ".join(f"cat:{c}" for c in topic.categories) + ")"
    by_name = [author.name for author in topic.authors if not author.pin]
    if by_name:  # AND binds tighter than OR in arXiv's syntax; the outer parentheses keep the window on all
        query = f"({query} OR (" + " OR ".join(f"au:{quote_phrase(name)}" for name in by_name) + "))"
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

    # A field is whatever stands before a colon, as arXiv reads it (`3d:x` and `tí:x` name fields).
    TOKEN = re.compile(r'\s*(?:(?P<paren>[()])|(?P<field>[^\s()":]+):|"(?P<phrase>[^"]*)"|(?P<open>")'
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
        self.depth = 0

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
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise ValueError(f"nests parentheses more than {MAX_NESTING} deep")
            self._expression(found, negated)
            if self._next() != ("paren", ")"):
                raise ValueError("unbalanced parentheses: '(' without ')'")
            self.depth -= 1
            return
        field = "all"
        if kind == "field":
            field = text
            if field.startswith(UNDOCUMENTED_PREFIXES) and field[1:] in QUERY_FIELDS:
                raise ValueError(_undocumented(field + ":", field[0]))
            if field not in QUERY_FIELDS:
                hint = " (dates are set by since and window_days)" if field.endswith("Date") else ""
                raise ValueError(f"unknown field {field + ':'!r}{hint}; arXiv's fields are "
                                 + ", ".join(f + ":" for f in QUERY_FIELDS))
            token = self._next()
            if token is not None and token[0] == "field":
                raise ValueError(f"{field}:{token[1]}:…: a ':' inside a value, which arXiv reads as another field")
            if token is None or token[0] not in ("word", "phrase") or token[1] in OPERATORS:
                raise ValueError(f"{field}: has no value")
            kind, text = token
        if kind == "paren":
            raise ValueError("unbalanced parentheses: ')' without '('" if text == ")" else "'(' after a term")
        if kind == "word" and text in OPERATORS:
            raise ValueError(f"{text} needs a term on each side")
        shown = f'{field}:"{text}"' if kind == "phrase" else f"{field}:{text}"
        if field == "cat" and not CATEGORY.match(text):
            raise ValueError(f"{shown}: {text!r} is not an arXiv category such as cs.CV")
        undocumented = UNDOCUMENTED.search(text)
        if undocumented or (kind == "word" and text.startswith(UNDOCUMENTED_PREFIXES)):
            raise ValueError(_undocumented(shown, undocumented[0] if undocumented else text[0]))
        if not words(text):
            raise ValueError(f"{shown} is an empty phrase" if kind == "phrase" else f"{shown} has no letters or digits")
        if field in TEXT_FIELDS and not negated:
            found.append(" ".join(text.split()))


def _undocumented(shown: str, character: str) -> str:
    return (f"{shown}: {character!r} is not part of arXiv's query syntax (its API manual documents fields, "
            "AND, OR, ANDNOT, parentheses and double-quoted phrases)")


@lru_cache(maxsize=256)
def query_phrases(query: str) -> tuple[str, ...]:
    """The phrases a (checked) query searches for in titles and abstracts."""
    return tuple(QueryCheck(query).phrases())
