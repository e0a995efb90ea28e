"""The markdown digest, in exactly the format of the system we replace (see tests/test_digest.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from topic_report.arxiv.links import abs_url
from topic_report.store import Paper

MAX_AUTHORS = 10
# `<` that could open a tag, comment or declaration (`k < 4` cannot), and `&` that could start an entity.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY_START = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# Markdown's inline markers, escaped so a title like `**bold**` shows as written; and a backslash
# before one of them (or before `&`, `<`, another backslash or the end), escaped so that it cannot
# undo the marker's escape: `\[x\](url)` must not become a link. Other backslashes stay as arXiv
# gives them (`100\%`, `\textit{…}`), as in the digest we replace.
_MARKDOWN_INLINE = re.compile(r"([*_`\[\]~]|\\(?=[\\*_`\[\]~&<]|$))")
# What starts a block at the beginning of a line (heading, quote, list, rule, setext underline,
# table row): the digest puts author lines and abstracts there.
_BLOCK_START = re.compile(r"^(?:[#>+=|-]|\d{1,9}[.)])")
_BIDI_EMBEDDINGS, _BIDI_ISOLATES = "\u202a\u202b\u202d\u202e", "\u2066\u2067\u2068"
_BIDI_OPENERS = re.compile(f"[{_BIDI_EMBEDDINGS}{_BIDI_ISOLATES}]")


def close_bidi(text: str) -> str:
    """The text with its unterminated bidi embeddings, overrides (U+202E…) and isolates closed at its
    end, so that they cannot reverse what follows it (the next author's name, say)."""
    if not _BIDI_OPENERS.search(text):  # nearly every text: read once by the regex engine, not char by char
        return text
    open_ = []
    for char in text:
        if char in _BIDI_EMBEDDINGS:
            open_.append("\u202c")
        elif char in _BIDI_ISOLATES:
            open_.append("\u2069")
        elif char == "\u202c" and open_ and open_[-1] == "\u202c":
            open_.pop()
        elif char == "\u2069" and "\u2069" in open_:
            del open_[len(open_) - 1 - open_[::-1].index("\u2069"):]
    return text + "".join(reversed(open_))


def neutralize(text: str) -> str:
    """Text safe to drop into markdown: no HTML tag or entity can start, markdown markers escaped,
    no block can start, bidi controls closed."""
    text = _TAG_START.sub("&lt;", _ENTITY_START.sub("&amp;", text))
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    text = _BLOCK_START.sub(lambda start: start[0][:-1] + "\\" + start[0][-1], text)
    return close_bidi(text)


def author_line(authors: list[str]) -> str:
    shown = [neutralize(name) for name in authors[:MAX_AUTHORS]]
    if len(authors) > MAX_AUTHORS:
        shown.append("et al.")
    return ", ".join(shown)


def _entry(paper: Paper) -> str:
    return (
        f"- **{neutralize(paper.title) or '(untitled)'}**  \n"
        f"  {author_line(paper.authors)}  \n"
        f"  _{paper.published:%Y-%m-%d}_ · {neutralize(abs_url(paper.versioned_id))}  \n"
        f"  <details><summary>Abstract</summary>\n\n"
        f"  {neutralize(paper.abstract)}\n\n"
        f"  </details>\n\n\n"
    )


def render_digest(topic_name: str, papers: list[Paper], now: datetime | None = None) -> str:
    """Digest of `papers` (already chosen and ordered: newest first, then id descending)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    header = (
        f"# {neutralize(topic_name)}\n\n"
        f"_Updated: {now:%Y-%m-%d %H:%M} UTC_\n\n"
        f"Total papers shown: **{len(papers)}**\n\n\n"
        f"---\n\n"
    )
    return header + "\n".join(_entry(p) for p in papers)
