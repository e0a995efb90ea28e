"""Render the executed topic notebooks into the report site: by Quarto where it is installed,
else by nbconvert, with the same layout: `<output>/index.html` and `<output>/<slug>.html`, and a
navbar linking every page.

Both start from the Quarto project the build assembles in `project_dir` (build/site/): the
executed notebooks `<slug>.ipynb`, plus what `write_project` adds — `index.qmd`, the files of
notebooks/site/ the configuration names (styles, theme layer, post-render step) and `_quarto.yml`,
which is the shipped _quarto.yml, with the project's own laid over it, completed with the navbar entries, the pages to
render, the output directory and no execution. The fallback renders each notebook's outputs (no
code) and the same index content into notebooks/site/page.html.j2, a page shaped like Quarto's.

A rebuild renders only the pages whose source changed (build/rendered.json); a change to the
site itself (configuration, theme, layout, renderer, output directory) renders every page.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict

from topic_report import PACKAGE_DIR, RESOURCES, SITE_DIR, TopicReportError, read_state, write_atomically
from topic_report.bounded import Limits, run_bounded
from topic_report.digest import neutralize
from topic_report.overview import TopicOverview
from topic_report.topic_files import ALL_FEED, DETAILS, FEED_LIST, file_name
from topic_report.topics import Topic

SITE_PREFIX = "notebooks/site/"  # how the top-level _quarto.yml names the files below, copied into the project
# Copied into the project: the report's styles, the theme layer dropping cosmo's web-font import,
# the post-render step removing Quarto's CDN scripts (see offline_pages.py).
SITE_FILES = ("report.css", "offline.scss", "offline_pages.py")
RENDER_LOG = "quarto-render.log"  # in the work directory, next to the project
# The papers of each page, for the post-render step's site-search entries (one per paper).
SEARCH_PAPERS = "search-papers.json"
SEARCH_AUTHORS = 3
INDEX_TITLE = "Topics"
# What Quarto reads as markdown could also hold a fence closing a raw block or a shortcode
# ({{< env SECRET >}}, {{< include … >}}): backticks and braces go in as HTML entities.
_QUARTO_SYNTAX = str.maketrans({"`": "&#96;", "{": "&#123;", "}": "&#125;"})
_BRACE = re.compile(r"(\\*)\{")


def _inert(value):
    """Each value a template interpolates: HTML-escaped, and inert in the .qmd the index goes into."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(str(escape(value)).translate(_QUARTO_SYNTAX))
    return value


def _math(text: str) -> Markup:
    """A title with its TeX as MathML (helpers/tex.py), inert in the .qmd like every other value."""
    from topic_report import tex

    return Markup(tex.html_of(text).translate(_QUARTO_SYNTAX))


_templates = Environment(loader=FileSystemLoader(SITE_DIR), autoescape=True, undefined=StrictUndefined,
                         keep_trailing_newline=True, finalize=_inert)
_templates.filters["math"] = _math


@dataclass(frozen=True)
class SearchPaper:
    """What the site search finds a paper by: its title, its first authors and its id."""

    id: str
    title: str
    authors: str


@dataclass(frozen=True)
class TopicPage:
    """One topic's page: its executed notebook is `<project_dir>/<slug>.ipynb`."""

    topic: Topic
    overview: TopicOverview  # what the index shows of it
    papers: tuple[SearchPaper, ...] = ()  # for the site search, in the page's order


def search_papers(frame) -> tuple[SearchPaper, ...]:
    """The site search's record of each paper of a topic frame (newest first)."""
    return tuple(SearchPaper(paper_id, title, ", ".join(authors[:SEARCH_AUTHORS]) + (" et al." if len(authors) > SEARCH_AUTHORS else ""))
                 for paper_id, title, authors in zip(frame["id"], frame["title"], frame["authors"], strict=True))


# The table's own script and styles (helpers/tables.py) and the site's shared table library
# (DataTables with its default styling and jQuery, one ES module built by table-library/build.mjs,
# with its licences), shipped as package data.
TABLE_ASSETS = PACKAGE_DIR / "assets"
TABLE_ASSET_FILES = ("papers-table.js", "papers-table.css")
LIBRARY_FILES = ("datatables.js", "datatables.css", "datatables.LICENSE.txt")


@functools.cache
def table_library() -> str:
    """Where a site keeps its one copy of the table library (.js, and the .css beside it), which
    every page links: a folder named by a digest of the files, so a browser's cached copy never
    meets pages made for another, and a page kept from an earlier build keeps the copy it links."""
    digest = _sha256(*((TABLE_ASSETS / name).read_bytes() for name in LIBRARY_FILES))
    return f"./assets/datatables-{digest[:12]}/datatables.js"


TABLE_ASSETS_DIR = "./assets/papers-table/"  # in the site, beside the library's folder


@functools.cache
def table_asset(name: str) -> str:
    """The address a table page links one of the table's files by: the site's one copy, with a
    digest of the files' content, so a browser's cached copy never serves pages made for another.
    One folder, always written with the current files: a page kept from an earlier build (its data
    made by the same helpers/tables.py) links the current script."""
    digest = _sha256(*((TABLE_ASSETS / asset).read_bytes() for asset in TABLE_ASSET_FILES))
    return f"{TABLE_ASSETS_DIR}{name}?v={digest[:12]}"


def write_table_library(output_dir: Path) -> None:
    """Copy the table library, and the table's script and styles, into the site where it lacks
    them or holds other ones (after rendering: a full Quarto render starts the output directory afresh)."""
    library = (output_dir / table_library()).parent
    for name in LIBRARY_FILES:
        if not (library / name).is_file():
            library.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(TABLE_ASSETS / name, library / name)
    assets = output_dir / TABLE_ASSETS_DIR
    for name in TABLE_ASSET_FILES:
        content = (TABLE_ASSETS / name).read_bytes()
        if not (assets / name).is_file() or (assets / name).read_bytes() != content:
            assets.mkdir(parents=True, exist_ok=True)
            (assets / name).write_bytes(content)


def publish_table_details(pages: list[TopicPage], rendered: list[str], project_dir: Path, output_dir: Path) -> None:
    """Put each page's table details (`<slug>.details.json`, which its kernel wrote and the build
    keeps beside the executed page) beside the rendered page, where its script fetches them when a
    reader needs them: again with a page rendered anew, and where the output directory lacks them."""
    for page in pages:
        name = file_name(page.topic.slug, DETAILS)
        kept, published = project_dir / name, output_dir / name
        if not kept.is_file():  # no table (a topic without papers)
            published.unlink(missing_ok=True)
        elif f"{page.topic.slug}.html" in rendered or not published.is_file():
            shutil.copyfile(kept, published)


SHIPPED_CONFIG = RESOURCES / "_quarto.yml"
# What write_project fills in: a project's own _quarto.yml must leave these mappings.
CONFIG_SECTIONS = ("project", "website", "website.navbar", "format", "format.html", "execute")


def base_config(own: Path | None = None) -> dict:
    """The shipped _quarto.yml, with a project's own `_quarto.yml` (its title, theme, page settings)
    laid over it, so that one may hold only what it changes."""
    config = yaml.safe_load(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    if own is not None and own.resolve() != SHIPPED_CONFIG.resolve():
        try:
            overrides = yaml.safe_load(own.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise TopicReportError(f"cannot read {own}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise TopicReportError(f"{own}{f':{mark.line + 1}' if mark else ''}: invalid YAML: "
                                   f"{getattr(exc, 'problem', None) or exc}") from None
        if not isinstance(overrides, dict):
            raise TopicReportError(f"{own}: expected a mapping of Quarto settings")
        config = _laid_over(config, overrides)
    for section in CONFIG_SECTIONS:
        value = config
        for key in section.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, dict):
            raise TopicReportError(f"{own or SHIPPED_CONFIG}: {section} must be a mapping of settings")
    return config


def _laid_over(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = _laid_over(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) \
            else value
    return merged


def quarto_text(text: str) -> str:
    """Text for where Quarto reads markdown (a page title, a navbar entry): neutralized as in the
    digest (backticks included), and every `{` an entity, so no shortcode can start; an odd run of
    backslashes before it gets one more, so none escapes the entity. YAML is yaml.safe_dump's."""
    return _BRACE.sub(lambda m: m[1] + "\\" * (len(m[1]) % 2) + "&#123;", neutralize(text))


def front_matter(title: str) -> str:
    """A notebook's first (raw) cell for Quarto; the title is markdown there."""
    return "---\n" + yaml.safe_dump({"title": quarto_text(title)}, allow_unicode=True) + "---"


def index_content(pages: list[TopicPage]) -> str:
    return _templates.get_template("index.html.j2").render(pages=pages, all_feed=ALL_FEED, feed_list=FEED_LIST)


def write_project(pages: list[TopicPage], project_dir: Path, output_dir: Path,
                  own_config: Path | None = None) -> None:
    """Complete the Quarto project around the executed notebooks already in `project_dir`.

    Files are rewritten only when their content changes, so their modification times tell Quarto
    (and a reader) what really changed."""
    config = base_config(own_config)
    project = config["project"]
    project["render"] = ["index.qmd", *(f"{page.topic.slug}.ipynb" for page in pages)]
    project["output-dir"] = os.path.relpath(output_dir.resolve(), project_dir.resolve())
    project["post-render"] = _in_project(project.get("post-render"))
    html = config["format"]["html"]
    html["css"] = _in_project(html.get("css"))
    html["theme"] = _in_project(html.get("theme"))
    config["execute"]["enabled"] = False  # papermill already executed the pages
    config["website"]["navbar"]["left"] = [
        {"href": f"{page.topic.slug}.ipynb", "text": quarto_text(page.topic.name)} for page in pages]
    project_dir.mkdir(parents=True, exist_ok=True)
    _write_if_changed(project_dir / "_quarto.yml",
                      "# Generated by `topic-report build` from the project's _quarto.yml: edit that one.\n"
                      + yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    for name in SITE_FILES:
        _write_if_changed(project_dir / name, (SITE_DIR / name).read_text(encoding="utf-8"))
    _write_if_changed(project_dir / SEARCH_PAPERS, json.dumps(
        {f"{page.topic.slug}.html": [vars(paper) for paper in page.papers] for page in pages},
        ensure_ascii=False, indent=0))
    _write_if_changed(project_dir / "index.qmd",
                      f"{front_matter(INDEX_TITLE)}\n\n```{{=html}}\n{index_content(pages)}```\n")


def _in_project(value):
    """A path of the top-level config into notebooks/site/, as the copy in the project sees it."""
    if isinstance(value, list):
        return [_in_project(item) for item in value]
    if isinstance(value, str) and value.startswith(SITE_PREFIX):
        return value.removeprefix(SITE_PREFIX)
    return value


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def find_quarto() -> str | None:
    """The quarto executable, if it is installed."""
    return shutil.which("quarto")


@dataclass(frozen=True)
class Rendering:
    renderer: str         # "Quarto" or "nbconvert"
    rendered: list[str]   # the output pages rendered this time (the others were current)
    pages: int            # all pages of the site, the index included

    def __str__(self) -> str:
        done = len(self.rendered)
        if done == self.pages:
            return f"{self.renderer} (all {done} pages rendered)"
        if not done:
            return f"{self.renderer} (no page rendered: none changed)"
        return f"{self.renderer} ({done} of {self.pages} pages rendered, the others unchanged)"


class _RenderStateFile(BaseModel):
    """What build/rendered.json holds: the site's key and each output page's source key."""

    model_config = ConfigDict(extra="forbid")
    site: str
    pages: dict[str, str]


class RenderState:
    """build/rendered.json: what each output page was rendered from, so a rebuild renders only
    pages whose source (executed notebook, index content) or site (renderer, configuration,
    theme, layout, output directory) changed. Written whole into a new file that replaces the old
    one; a damaged file is discarded (every page is then rendered again)."""

    def __init__(self, path: Path):
        self.path = path
        self.site: str | None = None
        self.pages: dict[str, str] = {}
        recorded = read_state(path, _RenderStateFile, "every page is rendered again")
        if recorded:
            self.site, self.pages = recorded.site, recorded.pages

    def stale(self, site: str, sources: dict[str, str], output_dir: Path) -> list[str]:
        if site != self.site:
            return list(sources)
        return [name for name, source in sources.items()
                if self.pages.get(name) != source or not (output_dir / name).is_file()]

    def record(self, site: str, sources: dict[str, str]) -> None:
        self.site, self.pages = site, sources
        write_atomically(self.path, _RenderStateFile(site=site, pages=sources).model_dump_json(indent=2))


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def render_site(pages: list[TopicPage], project_dir: Path, output_dir: Path, limits: Limits,
                own_config: Path | None = None) -> Rendering:
    """Write the site into `output_dir`, rendering only the pages that changed since the last
    render into it (all of them when the site itself changed); Quarto runs within `limits`. A
    render that fails is not recorded: the next build renders those pages again."""
    write_project(pages, project_dir, output_dir, own_config)
    quarto = find_quarto()
    renderer = "Quarto" if quarto else "nbconvert"
    sources = {"index.html": project_dir / "index.qmd",
               **{f"{page.topic.slug}.html": project_dir / f"{page.topic.slug}.ipynb" for page in pages}}
    source_keys = {name: _sha256(path.read_bytes()) for name, path in sources.items()}
    site_files = [project_dir / "_quarto.yml", *(SITE_DIR / name for name in (*SITE_FILES, "page.html.j2"))]
    release = quarto_version(quarto) if quarto else ""  # another Quarto release renders every page anew
    site_key = _sha256(renderer.encode(), release.encode(), str(output_dir.resolve()).encode(),
                       *(path.read_bytes() for path in site_files))
    state = RenderState(project_dir.parent / "rendered.json")
    stale = state.stale(site_key, source_keys, output_dir)
    if stale and quarto:
        whole_site = stale == list(sources)
        render_with_quarto(quarto, project_dir, output_dir, stale,
                           None if whole_site else [sources[name].name for name in stale], limits)
    elif stale:
        render_with_nbconvert(pages, project_dir, output_dir, stale)
    publish_table_details(pages, stale, project_dir, output_dir)
    state.record(site_key, source_keys)
    return Rendering(renderer, stale, len(sources))


def quarto_version(quarto: str) -> str:
    """What `quarto --version` says (empty if it says nothing)."""
    return subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout.strip()


# Quarto 1.7.34 reads `quarto render a b c` as the input `a` and pandoc arguments `b c` unless a
# later argument starts with "-" (src/command/render/cmd.ts, lines 178-183: inputs end at the first
# argument starting with "-"); it then renders each input in turn in the same process (lines
# 242-264). The site's pages are html, so `--to html` ends the list without changing any page.
END_OF_INPUTS = ["--to", "html"]


def quarto_command(quarto: str, files: list[str] | None) -> list[str]:
    """The one `quarto render` of a build: the whole project, or these files of it (one Quarto
    start either way; a file render keeps the other pages and updates the search index for it)."""
    return [quarto, "render", *files, *END_OF_INPUTS] if files else [quarto, "render"]


def render_with_quarto(quarto: str, project_dir: Path, output_dir: Path, names: list[str],
                       files: list[str] | None, limits: Limits) -> None:
    """Run Quarto on the project (or the given files of it), bounded by `limits`; its output goes
    to a log in the work directory, and its error lines, if it fails, into the exception. A render
    that exits 0 but leaves one of the output pages `names` unwritten fails too."""
    log = project_dir.parent / RENDER_LOG
    before = {name: _modified(output_dir / name) for name in names}  # an old page must not pass for a new one
    code, output, stopped = run_bounded(quarto_command(quarto, files), cwd=project_dir, limits=limits,
                                        env={**os.environ, "NO_COLOR": "1"})
    log.write_text(output, encoding="utf-8")
    if stopped:
        raise TopicReportError(f"quarto render stopped: {stopped}\n  full log: {log}")
    if code:
        lines = "\n".join(f"  {line}" for line in quarto_error_lines(output))
        raise TopicReportError(f"quarto render failed (exit {code}):\n{lines}\n  full log: {log}")
    missing = [name for name in names if _modified(output_dir / name) in (None, before[name])]
    if missing:
        raise TopicReportError(f"quarto render wrote no {', '.join(missing)} (exit 0)\n  full log: {log}")


def _modified(path: Path) -> int | None:
    return path.stat().st_mtime_ns if path.is_file() else None


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# What Quarto prints around its message that says nothing about the cause: the source lines it
# quotes ("24:     toc: maybe"), their markers, stack frames.
_QUARTO_NOISE = re.compile(r"^(?:\d+: |\s*~+\s*$|\s*at )")
_STACK_TRACE = "Stack trace:"


def quarto_error_lines(output: str) -> list[str]:
    """Quarto's own error lines from its output, without colour codes, stack traces, quoted source
    lines or blank lines: from its first `ERROR:` line (prefix dropped) to the end. Quarto 1.7.34
    writes one `ERROR:` prefix per message (src/core/log.ts, line 123) and a message may hold
    blank lines (a validation error: its heading, a blank line, the details,
    src/core/lib/yaml-schema/validated-yaml.ts); a stack trace follows "Stack trace:" (log.ts,
    line 369) until the next message. Without any `ERROR:`, the last line that is no stack frame."""
    lines = [ANSI_ESCAPE.sub("", line).rstrip() for line in output.splitlines()]
    found: list[str] = []
    in_error = False
    for line in lines:
        if line.startswith("ERROR:"):
            in_error = True
            line = line.removeprefix("ERROR:").strip()
        elif line.strip() == _STACK_TRACE:
            in_error = False
        if in_error and line.strip() and not _QUARTO_NOISE.match(line) and line.strip() not in found:
            found.append(line.strip())
    if found:
        return found
    last = [line.strip() for line in lines
            if line.strip() and not _QUARTO_NOISE.match(line) and line.strip() != _STACK_TRACE][-1:]
    return last or ["(quarto printed nothing)"]


def render_with_nbconvert(pages: list[TopicPage], project_dir: Path, output_dir: Path, names: list[str]) -> None:
    """Render the named output pages (`index.html`, `<slug>.html`) of the site."""
    from nbconvert import HTMLExporter  # here: only a build without Quarto, and with a page to render, needs it

    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_raw=True)
    layout = _templates.get_template("page.html.j2")
    shared = {
        "site_title": base_config(project_dir / "_quarto.yml")["website"]["title"],
        "navbar": [{"href": f"{page.topic.slug}.html", "text": page.topic.name} for page in pages],
        "report_css": Markup((SITE_DIR / "report.css").read_text(encoding="utf-8")),
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    titles = {"index.html": INDEX_TITLE, **{f"{page.topic.slug}.html": page.topic.name for page in pages}}
    for name in names:
        if name == "index.html":
            content = index_content(pages)
        else:
            content, _ = exporter.from_filename(str(project_dir / f"{name.removesuffix('.html')}.ipynb"))
        html = layout.render(title=titles[name], content=Markup(content), current=name, **shared)
        (output_dir / name).write_text(html, encoding="utf-8")
