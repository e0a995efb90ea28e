"""Quarto post-render step of the report site (`project: post-render:` in build/site/_quarto.yml):
make the rendered pages work offline and keep the site search clean.

Quarto 1.7 (src/core/jupyter/widgets.ts) puts RequireJS and jQuery from cdnjs.cloudflare.com,
and an inline `define('jquery', …)`, into the <head> of every page made from a notebook with a
text/html output; no option turns that off. The report's table (itables, offline mode) needs
none of them, and offline the inline script fails ("define is not defined"). This step removes
exactly those three tags. Its search index (search.json, written before this step runs) also
holds itables' fallback messages, which a reader never sees: they are removed from it.

It then checks the site: a page or stylesheet that still loads something from another machine
fails the render, with a line naming it (the cosmo theme's web-font import is dropped earlier, by
the theme layer offline.scss).

The search index gets one entry per paper of each topic page (its title as the entry's section,
its first authors and id as text), leading to the page with the table showing that paper
(`<page>#paper-<id>`); the table's section keeps its lead sentence only, not the no-script preview
of the table, whose run-together cells and first rows are all Quarto's indexer sees of it. The
papers come from search-papers.json, which the build writes into the project.

Standard library only: Quarto runs post-render scripts with whichever `python3` it finds.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path

# The tags widgets.ts writes (the jQuery one loses its data-relocate-top attribute on the way).
CDN_SCRIPT = re.compile(
    r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/(?:require\.js|jquery)/[^"]*"[^>]*></script>\n?')
DEFINE_JQUERY = re.compile(
    re.escape("<script type=\"application/javascript\">define('jquery', [],function() {return window.jQuery;})"
              "</script>") + "\n?")
# Loading anything from another machine: a script or stylesheet tag, a CSS import.
REMOTE_TAG = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"', re.I)
REMOTE_IMPORT = re.compile(r'@import\s*(?:url\(\s*)?["\']?((?:https?:)?//[^"\')\s]+)', re.I)

NOSCRIPT = re.compile(r"<noscript>(.*?)</noscript>", re.S | re.I)
# itables' messages for a table whose script has not run, as text (Quarto's search indexer
# reads `textContent`; a <noscript> is raw text to it, so its markup is caught by NOSCRIPT).
ITABLES_MESSAGES = [
    re.compile(r"This is the init_notebook_mode cell from ITables v[\w.]+\s*"
               r"\(you should not see this message - is your notebook trusted\?\)"),
    re.compile(r"Loading ITables v[\w.]+ from (?:the init_notebook_mode cell|the internet)\.\.\.\s*\(need help\?\)"),
]


def without_cdn_scripts(html: str) -> str:
    """The page without Quarto's RequireJS/jQuery tags; only the <head> is touched."""
    head_end = html.find("</head>")
    if head_end < 0:
        return html
    head = DEFINE_JQUERY.sub("", CDN_SCRIPT.sub("", html[:head_end]))
    return head + html[head_end:]


def remote_references(text: str) -> list[str]:
    """Addresses on other machines that this HTML page or stylesheet would load."""
    return REMOTE_TAG.findall(text) + REMOTE_IMPORT.findall(text)


def _as_indexed(text: str) -> str:
    """Text as Quarto's search index stores it (website-search.ts: encodeHtml of < and >)."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def clean_search_entries(entries: list[dict], pages: dict[str, str]) -> list[dict]:
    """Search entries without itables' fallback messages; `pages` maps a page's href to its HTML."""
    cleaned = []
    for entry in entries:
        page = pages.get(entry.get("href", "").split("#")[0])
        text = entry.get("text", "")
        for raw in NOSCRIPT.findall(page or ""):
            if raw.strip():
                text = text.replace(_as_indexed(raw.strip()), "")
        for message in ITABLES_MESSAGES:
            text = message.sub("", text)
        text = re.sub(r"\n\s*\n", "\n", text).strip()
        cleaned.append({**entry, "text": text})
    return cleaned


SEARCH_PAPERS = "search-papers.json"  # helpers/site.py writes it: {page: [{id, title, authors}]}
PAPER_ANCHOR = "paper-"  # the page's table shows the paper of a `#paper-<id>` address
TABLE_SECTION = "all-papers"  # the section of the table ("## All papers")


def with_paper_entries(entries: list[dict], papers_by_page: dict[str, list[dict]]) -> list[dict]:
    """The search entries with one per paper of each page of `papers_by_page` that the index
    holds, replacing that page's earlier paper entries; its table section keeps its first line."""
    kept, titles = [], {}
    for entry in entries:
        page, _, anchor = entry.get("href", "").partition("#")
        if page in papers_by_page:
            if anchor.startswith(PAPER_ANCHOR):
                continue
            if anchor == TABLE_SECTION:
                entry = {**entry, "text": entry.get("text", "").strip().split("\n", 1)[0]}
            if not anchor:
                titles[page] = entry.get("title", "")
        kept.append(entry)
    for page, papers in papers_by_page.items():
        if page not in titles:  # not rendered
            continue
        for paper in papers:
            href = f"{page}#{PAPER_ANCHOR}{paper['id']}"
            # Quarto's search shows title and section as text, and the text as HTML (quarto-search.js).
            kept.append({"objectID": href, "href": href, "title": titles[page], "section": paper["title"],
                         "text": html.escape(f"{paper['authors']} · arXiv:{paper['id']}")})
    return kept


def _output_files(project_dir: Path) -> list[Path]:
    listing = os.environ.get("QUARTO_USE_FILE_FOR_PROJECT_OUTPUT_FILES")
    names = Path(listing).read_text(encoding="utf-8") if listing else os.environ.get("QUARTO_PROJECT_OUTPUT_FILES", "")
    return [project_dir / name for name in names.splitlines() if name.strip()]


def post_render(project_dir: Path, output_dir: Path, rendered: list[Path]) -> list[str]:
    """Clean the rendered pages and the search index; returns the remote loads still left."""
    for page in rendered:
        if page.suffix == ".html" and page.is_file():
            html = page.read_text(encoding="utf-8")
            offline = without_cdn_scripts(html)
            if offline != html:
                page.write_text(offline, encoding="utf-8")
    pages = {path.relative_to(output_dir).as_posix(): path.read_text(encoding="utf-8")
             for path in output_dir.glob("*.html")}
    index = output_dir / "search.json"
    if index.is_file():
        entries = json.loads(index.read_text(encoding="utf-8"))
        listing = project_dir / SEARCH_PAPERS
        papers = json.loads(listing.read_text(encoding="utf-8")) if listing.is_file() else {}
        cleaned = with_paper_entries(clean_search_entries(entries, pages), papers)
        if cleaned != entries:
            index.write_text(json.dumps(cleaned, indent=2, ensure_ascii=False), encoding="utf-8")
    stylesheets = {path.relative_to(output_dir).as_posix(): path.read_text(encoding="utf-8", errors="replace")
                   for path in (output_dir / "site_libs").rglob("*.css")}
    return [f"{name} loads {address}" for name, text in {**pages, **stylesheets}.items()
            for address in remote_references(text)]


def main() -> int:
    project_dir = Path.cwd()  # Quarto runs the script in the project directory
    output_dir = Path(os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", "_site"))
    left = post_render(project_dir, output_dir, _output_files(project_dir))
    for problem in left:
        print(f"ERROR: the page would not work offline: {problem}", file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
