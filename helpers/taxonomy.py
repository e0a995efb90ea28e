"""arXiv's category taxonomy (data/taxonomy/arxiv-categories.json, taken from arXiv's own
arxiv-base package): the name of each category code, for charts, filters and paper details.

arXiv's `categories` field also carries the ACM and MSC classes some authors give ("I.4.8",
"68T45"); those are not arXiv categories and `is_category` says so.
"""

from __future__ import annotations

import json
from functools import cache

from topic_report import RESOURCES
from topic_report.arxiv.query import CATEGORY

TAXONOMY = RESOURCES / "data" / "taxonomy" / "arxiv-categories.json"


@cache
def _taxonomy() -> tuple[dict[str, str], dict[str, str]]:
    document = json.loads(TAXONOMY.read_text(encoding="utf-8"))
    names = {code: entry["name"] for code, entry in document["categories"].items()}
    return names, document["aliases"]


def is_category(code: str) -> bool:
    """Whether the code has the form of an arXiv category (not an ACM or MSC class)."""
    return bool(CATEGORY.fullmatch(code))


def category_name(code: str) -> str | None:
    """The category's name ("Computer Vision and Pattern Recognition" for cs.CV); an old alias gets
    its successor's name; None for a code arXiv's taxonomy does not hold."""
    names, aliases = _taxonomy()
    return names.get(code) or names.get(aliases.get(code, ""))


def labelled(code: str) -> str:
    """`cs.CV · Computer Vision and Pattern Recognition`, or the bare code when it has no name."""
    name = category_name(code)
    return f"{code} · {name}" if name else code
