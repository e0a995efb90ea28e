"""The markdown digest, in exactly the format of the system we replace (see tests/test_digest.py)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from helpers.store import Paper

MAX_AUTHORS = 10
# `<` that could open a tag, comment or declaration (`k < 4` cannot), and `&` that could start an entity.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY_START = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# Markdown's inline markers; escaped so a title like `**bold**` shows as written.
_MARKDOWN_INLINE = re.compile(r"([*_`\[\]~])")


def neutralize(text: str) -> str:
    """Text safe to drop into markdown: no HTML tag or entity can start, markdown markers escaped."""
    text = _TAG_START.sub("&lt;", _ENTITY_START.sub("&amp;", text))
    return _MARKDOWN_INLINE.sub(r"\\\1", text)


def abs_url(paper: Paper) -> str:
    return f"https://arxiv.org/abs/{paper.versioned_id}"


def author_line(authors: list[str]) -> str:
    shown = [neutralize(name) for name in authors[:MAX_AUTHORS]]
    if len(authors) > MAX_AUTHORS:
        shown.append("et al.")
    return ", ".join(shown)


def _entry(paper: Paper) -> str:
    return (
        f"- **{neutralize(paper.title) or '(untitled)'}**  \n"
        f"  {author_line(paper.authors)}  \n"
        f"  _{paper.published:%Y-%m-%d}_ · {abs_url(paper)}  \n"
        f"  <details><summary>Abstract</summary>\n\n"
        f"  {neutralize(paper.abstract)}\n\n"
        f"  </details>\n\n\n"
    )


def render_digest(topic_name: str, papers: list[Paper], now: datetime | None = None) -> str:
    """Digest of `papers` (already chosen and ordered: newest first, then id descending)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    header = (
        f"# {neutralize(topic_name)}\n\n"
        f"_Updated: {now:%Y-%m-%d %H:%M} UTC_\n\n"
        f"Total papers shown: **{len(papers)}**\n\n\n"
        f"---\n\n"
    )
    return header + "\n".join(_entry(p) for p in papers)
