"""TeX in arXiv titles and abstracts (`$E^{3}$Gen`, `$O(N)$`) → safe HTML with MathML, and → plain text.

Browsers lay MathML out natively (MathML Core: Chromium, Firefox, Safari), so math shows offline
without a script. The text is untrusted: `latex2mathml` passes some input through as markup
(`\\text{<b>x</b>}` gives a `<b>` element, `\\href{javascript:…}` an `href`), so its output is parsed
and rebuilt from an allow-list of MathML elements and attribute values; a span that holds anything
else, or that it cannot convert, stays as its source text, escaped.

A span is `$…$` (or `$$…$$`) as pandoc reads it: the opening `$` has a non-space character right
after it, the closing one a non-space character right before it and no digit right after it, so
"costs $5 and $10" stays text; `\\$` is a dollar sign.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from lxml import etree

MATHML = "http://www.w3.org/1998/Math/MathML"
# MathML Core's presentation elements that latex2mathml writes; nothing here links, loads or runs anything.
ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup", "mfrac", "msqrt",
    "mroot", "mstyle", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mpadded", "mphantom",
})
ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "linethickness",
    "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "accent",
    "accentunder", "movablelimits", "largeop", "symmetric", "minsize", "maxsize", "width", "height",
    "depth", "displaystyle", "scriptlevel", "mathcolor", "mathbackground", "linebreak", "frame",
})
# Attribute values are words, numbers, lengths and #colours: no quote, colon or parenthesis, so
# none can hold a URL, a `url(…)` or an expression.
VALUE = re.compile(r"[\w.#%+ -]{0,40}")
SPAN = re.compile(
    r"\\\$"                                              # an escaped dollar sign
    r"|\$\$(?=\S)(?P<display>[^$]{1,500}?)(?<=\S)\$\$"   # $$…$$
    r"|\$(?=\S)(?P<inline>[^$]{1,500}?)(?<=[^\s\\])\$(?!\d)"  # $…$, as pandoc reads it
)
# Bounds on hostile input: the spans converted per text (any further ones stay text).
MAX_SPANS = 200


def html_of(text: str, text_html: Callable[[str], str] = html.escape) -> str:
    """`text` as HTML: each TeX span as a `<math>` element, everything else through `text_html`
    (by default escaped; a caller may mark terms, as long as it escapes too)."""
    return _rewritten(text, _mathml, text_html)


def plain(text: str) -> str:
    """The text as it reads, for sorting and search: each TeX span as its characters ("$E^{3}$Gen"
    → "E3Gen", "$\\alpha$-NeRF" → "α-NeRF"), `\\$` as "$"; a span that is not math stays as written."""
    return _rewritten(text, _reading, str)


def _rewritten(text: str, span_as: Callable[[str], str | None], text_as: Callable[[str], str]) -> str:
    """`text` with each TeX span that `span_as` can write replaced by what it writes, `\\$` by "$",
    and the text around them through `text_as`; a span `span_as` refuses stays text."""
    pieces, last, converted = [], 0, 0
    for match in SPAN.finditer(text):
        written = None
        if match[0] != "\\$" and converted < MAX_SPANS:
            converted += 1
            written = span_as(match["display"] or match["inline"])
        if match[0] == "\\$" or written is not None:
            pieces += [text_as(text[last:match.start()]), "$" if written is None else written]
            last = match.end()
    return "".join(pieces) + text_as(text[last:])


@lru_cache(maxsize=4096)
def _tree(tex: str) -> etree._Element | None:
    """The span as a checked MathML tree, or None: not convertible, or holding anything not allowed."""
    if any(unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs") for char in tex):
        return None  # bidi overrides and controls would reorder or hide the text around the span
    from latex2mathml.converter import convert  # here: most texts hold no span, and most builds none

    try:
        root = etree.fromstring(convert(tex, display="inline"), etree.XMLParser(resolve_entities=False,
                                                                                no_network=True))
    except Exception:  # latex2mathml raises many kinds on malformed TeX; lxml on malformed output
        return None
    for element in root.iter():
        if not isinstance(element.tag, str) or etree.QName(element).namespace != MATHML \
                or etree.QName(element).localname not in ELEMENTS:
            return None
        if any(name not in ATTRIBUTES or not VALUE.fullmatch(value) for name, value in element.attrib.items()):
            return None
        if "\\" in (element.text or ""):
            return None  # a command latex2mathml does not know, which it writes out as its name
    return root


def _mathml(tex: str) -> str | None:
    root = _tree(tex)
    if root is None:
        return None
    # Serialized from the checked tree: text and attribute values escaped by lxml, nothing else in it.
    return etree.tostring(root, encoding="unicode")


def _reading(tex: str) -> str | None:
    root = _tree(tex)
    return None if root is None else "".join(root.itertext())
