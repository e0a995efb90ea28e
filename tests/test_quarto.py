"""What the project does with Quarto, tested where Quarto is absent (CI):

- the post-render step (notebooks/site/offline_pages.py) on the real pages Quarto 1.7.34 rendered
  of this site (../shared/quarto-rendered/), run as Quarto runs it;
- the build's handling of `quarto` with stand-ins for the executable on PATH: one that fails as
  Quarto fails on a bad `_quarto.yml` (its output copied from Quarto's error format, colour codes
  included), one that records how it is called and writes placeholder pages, to check which
  pages a rebuild asks Quarto to render. Neither is Quarto: the real renders are the `quarto`
  variants of the site, browser and hostile tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from arxiv_server import SHARED_DIR
from site_data import run_build, site_topics
from test_browser import CHROMIUM, LOCAL_HOST, Visit, browser, serve  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[1]
POST_RENDER = ROOT / "notebooks" / "site" / "offline_pages.py"
RENDERED = SHARED_DIR / "quarto-rendered"
needs_rendered = pytest.mark.skipif(not (RENDERED / "3d-reconstruction.html").is_file(),
                                    reason=f"no real Quarto pages at {RENDERED} (the shared data beside the clone)")

# What Quarto 1.7 adds to a notebook page with a text/html output (src/core/jupyter/widgets.ts).
CDN_TAGS = ['<script src="https://cdnjs.cloudflare.com/ajax/libs/jquery/3.5.1/jquery.min.js"',
            '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js"',
            "define('jquery', [],function() {return window.jQuery;})"]


def load_post_render():
    spec = importlib.util.spec_from_file_location("offline_pages", POST_RENDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


offline_pages = load_post_render()


# --- the post-render step on real Quarto pages --------------------------------------------


@needs_rendered
def test_the_cdn_scripts_quarto_adds_are_removed_and_nothing_else():
    page = (RENDERED / "3d-reconstruction.html").read_text(encoding="utf-8")
    assert all(tag in page for tag in CDN_TAGS)
    offline = offline_pages.without_cdn_scripts(page)
    assert not any(tag in offline for tag in CDN_TAGS)
    removed = [line for line in page.splitlines() if line not in offline.splitlines()]
    assert len(removed) == 3 and all("cdnjs" in line or "define('jquery'" in line for line in removed)
    assert offline.count("<script") == page.count("<script") - 3
    assert '<script src="site_libs/quarto-nav/quarto-nav.js"></script>' in offline  # on jQuery's line
    assert offline_pages.remote_references(page) == [
        "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.5.1/jquery.min.js",
        "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js"]
    assert offline_pages.remote_references(offline) == []
    assert offline_pages.without_cdn_scripts(offline) == offline


@needs_rendered
def test_a_page_without_notebook_html_outputs_is_left_as_it_is():
    index = (RENDERED / "index.html").read_text(encoding="utf-8")
    assert offline_pages.without_cdn_scripts(index) == index
    assert offline_pages.remote_references(index) == []


def quarto_search_entries(page: str) -> list[dict]:
    """search.json entries for the page as Quarto 1.7 writes them (website-search.ts): the text
    content of the page's sections, where a <noscript> is raw text (its markup included), with
    < and > encoded."""
    def indexed(text: str) -> str:
        return text.replace("<", "&lt;").replace(">", "&gt;")
    setup, lock = (page.split("<noscript>")[i].split("</noscript>")[0] for i in (1, 2))
    return [
        {"objectID": "3d-reconstruction.html", "href": "3d-reconstruction.html", "title": "3D Reconstruction",
         "section": "", "text": indexed("Every paper stored for this topic: how many arrive over time.\n"
                                        + setup.strip())},
        {"objectID": "3d-reconstruction.html#all-papers", "href": "3d-reconstruction.html#all-papers",
         "title": "3D Reconstruction", "section": "All papers",
         "text": indexed("Every paper stored for the topic, newest first.\n\n\n"
                         "        Loading ITables v2.9.1 from the init_notebook_mode cell...\n"
                         "        (need help?)\n      \n\n" + lock + "ⓘTitle\n      Authors\n"
                         "VersaViT: Enhancing MLLM Vision Backbones via Task-Guided Optimization")},
        {"objectID": "index.html", "href": "index.html", "title": "Topics", "section": "",
         "text": "One page per topic of topics.yml"},
    ]


def run_post_render(project: Path, output: Path, rendered: list[str], interpreter: str = sys.executable):
    """The step as Quarto runs it: in the project directory, with the project's variables, by a
    bare `python3` (-I -S: the standard library only, as a python3 without our packages)."""
    environment = {**os.environ, "QUARTO_PROJECT_OUTPUT_DIR": str(output),
                   "QUARTO_PROJECT_OUTPUT_FILES": "\n".join(os.path.relpath(output / name, project) for name in rendered)}
    return subprocess.run([interpreter, "-I", "-S", str(project / "offline_pages.py")], cwd=project,
                          env=environment, capture_output=True, text=True)


@pytest.fixture
def rendered_site(tmp_path) -> tuple[Path, Path]:
    """The real Quarto pages in a project layout like the build's: build/site/ and _site/."""
    project, output = tmp_path / "build" / "site", tmp_path / "_site"
    project.mkdir(parents=True)
    shutil.copy(POST_RENDER, project)
    shutil.copytree(RENDERED, output, ignore=shutil.ignore_patterns("README.md"))
    page = (output / "3d-reconstruction.html").read_text(encoding="utf-8")
    (output / "search.json").write_text(json.dumps(quarto_search_entries(page), indent=2), encoding="utf-8")
    return project, output


@needs_rendered
def test_post_render_makes_the_pages_offline_and_cleans_the_search_index(rendered_site):
    project, output = rendered_site
    done = run_post_render(project, output, ["index.html", "3d-reconstruction.html"])
    assert done.returncode == 0, done.stderr
    page = (output / "3d-reconstruction.html").read_text(encoding="utf-8")
    assert not any(tag in page for tag in CDN_TAGS)
    texts = " ".join(entry["text"] for entry in json.loads((output / "search.json").read_text(encoding="utf-8")))
    for fallback in ("you should not see this message", "is your notebook", "Loading ITables", "need help",
                     "trust this notebook", "itables.org", "&lt;svg"):
        assert fallback not in texts
    for content in ("Every paper stored for this topic", "VersaViT: Enhancing MLLM Vision Backbones", "Authors",
                    "One page per topic"):
        assert content in texts
    again = run_post_render(project, output, ["3d-reconstruction.html"])
    assert again.returncode == 0 and (output / "3d-reconstruction.html").read_text(encoding="utf-8") == page


@needs_rendered
def test_the_site_search_finds_each_paper_by_title_and_leads_to_its_row(rendered_site):
    """One entry per paper of search-papers.json in place of the table's no-script preview;
    rendering again replaces them (Quarto keeps entries of an incremental render's other pages)."""
    project, output = rendered_site
    papers = [{"id": "2602.09934", "title": "VersaViT: Enhancing MLLM Vision Backbones", "authors": "A. One, B. Two"},
              {"id": "2602.99001", "title": "<script>alert(1)</script> & co", "authors": "O'Brien <b>"}]
    (project / "search-papers.json").write_text(json.dumps({"3d-reconstruction.html": papers}), encoding="utf-8")
    for _ in range(2):
        assert run_post_render(project, output, ["3d-reconstruction.html"]).returncode == 0
        entries = json.loads((output / "search.json").read_text(encoding="utf-8"))
        by_href = {entry["href"]: entry for entry in entries}
        assert len(by_href) == len(entries) == 5
        assert by_href["3d-reconstruction.html#all-papers"]["text"] == "Every paper stored for the topic, newest first."
        assert by_href["3d-reconstruction.html#paper-2602.09934"] == {
            "objectID": "3d-reconstruction.html#paper-2602.09934", "href": "3d-reconstruction.html#paper-2602.09934",
            "title": "3D Reconstruction", "section": "VersaViT: Enhancing MLLM Vision Backbones",
            "text": "A. One, B. Two · arXiv:2602.09934"}
        hostile = by_href["3d-reconstruction.html#paper-2602.99001"]
        # Quarto's search shows the section as text and the text as HTML.
        assert hostile["section"] == "<script>alert(1)</script> & co"
        assert hostile["text"] == "O&#x27;Brien &lt;b&gt; · arXiv:2602.99001"
    papers.pop()
    (project / "search-papers.json").write_text(json.dumps({"3d-reconstruction.html": papers}), encoding="utf-8")
    assert run_post_render(project, output, ["3d-reconstruction.html"]).returncode == 0
    hrefs = [entry["href"] for entry in json.loads((output / "search.json").read_text(encoding="utf-8"))]
    assert "3d-reconstruction.html#paper-2602.99001" not in hrefs and "3d-reconstruction.html#paper-2602.09934" in hrefs


@needs_rendered
def test_post_render_fails_a_site_that_still_loads_from_another_machine(rendered_site):
    """What a theme without offline.scss gives: cosmo's CSS importing its web font."""
    project, output = rendered_site
    bootstrap = output / "site_libs" / "bootstrap"
    bootstrap.mkdir(parents=True)
    (bootstrap / "bootstrap-7f53.min.css").write_text(
        '@import"https://fonts.googleapis.com/css2?family=Source+Sans+Pro:wght@300;400;700&display=swap";'
        ":root{--bs-blue: #2780e3}", encoding="utf-8")
    done = run_post_render(project, output, ["3d-reconstruction.html"])
    assert done.returncode == 1
    assert done.stderr.strip() == ("ERROR: the page would not work offline: site_libs/bootstrap/bootstrap-7f53.min.css "
                                   "loads https://fonts.googleapis.com/css2?family=Source+Sans+Pro:wght@300;400;700&display=swap")


def test_the_theme_layer_turns_the_web_font_off_in_the_defaults():
    """Quarto compiles a later theme layer's `scss:defaults` before cosmo's, whose
    `$web-font-path: … !default` then keeps `false`, and its `@if $web-font-path` import is dropped."""
    base = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    assert base["format"]["html"]["theme"] == ["cosmo", "notebooks/site/offline.scss"]
    assert base["project"]["post-render"] == "notebooks/site/offline_pages.py"
    layer = (ROOT / "notebooks" / "site" / "offline.scss").read_text(encoding="utf-8")
    defaults = layer.split("/*-- scss:defaults --*/", 1)[1].split("/*-- scss:", 1)[0]
    assert "$web-font-path: false;" in defaults


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
@needs_rendered
def test_the_real_quarto_page_requests_nothing_remote_once_post_rendered(rendered_site, browser):
    """In Chromium, served on loopback: before, the page asks cdnjs.cloudflare.com; after, only
    the machine itself (this copy lacks site_libs/, so local requests fail; none leaves)."""
    project, output = rendered_site
    original = project.parent / "original"
    shutil.copytree(output, original)
    assert run_post_render(project, output, ["3d-reconstruction.html"]).returncode == 0
    visits = []
    for directory in (original, output):
        with serve(directory) as url:
            visits.append(Visit(browser, f"{url}/3d-reconstruction.html"))
            visits[-1].page.wait_for_load_state("load")
            visits[-1].context.close()
    before, after = visits
    assert sorted(before.blocked) == [
        "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.5.1/jquery.min.js",
        "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js"]
    assert any("define is not defined" in error for error in before.errors)
    assert after.blocked == [] and not any("define is not defined" in error for error in after.errors)


# --- the build's handling of the quarto executable, with stand-ins --------------------------

# What Quarto 1.7.34 prints for `toc: maybe` in _quarto.yml, then exits 1: one ERROR message
# (src/core/log.ts, line 123: the prefix once, the colour around the whole message) whose text is
# the heading, a blank line and the tidyverse-formatted details (ValidationError,
# src/core/lib/yaml-schema/validated-yaml.ts lines 22-36; tidyverseFormatError in
# src/core/lib/errors.ts: the file, the location and heading, the quoted source, ✖ and ℹ lines, a
# blank line); "Stack trace:" and the frames follow where Quarto prints the stack (log.ts, 359-371).
FAILING_QUARTO = r"""#!/bin/sh
printf '\033[1m\033[34mStarting python3 kernel...\033[39m\033[22m\n'
printf '\033[91mERROR: Project /work/build/site/_quarto.yml validation failed.\n\n' >&2
printf 'In file /work/build/site/_quarto.yml\n(line 24, columns 10--14) Field "\033[34mtoc\033[91m" has value maybe, which must instead be true or false\n' >&2
printf '23:     page-layout: full\n24:     toc: maybe\n             ~~~~~\n\033[31m✖\033[91m The value maybe is of type string.\n' >&2
printf '\033[34mℹ\033[91m The error happened in location format:html:toc.\n\n\nStack trace:\n' >&2
printf '    at validateProjectConfig (file:///opt/quarto/bin/quarto.js:130221:15)\n' >&2
printf '    at async render (file:///opt/quarto/bin/quarto.js:131093:9)\033[39m\n' >&2
exit 1
"""

# Says its version; reads its command line as Quarto 1.7.34 does (src/command/render/cmd.ts,
# lines 160-183: the first argument, or the current folder, is an input, and so are the arguments
# after it up to the first one starting with "-"; the rest go to pandoc) and records it. Each
# input's page is written as a placeholder (the project: every page of its render list). Pandoc
# reads arguments that are not options as more input files, which it appends to the document:
# so does this stand-in, as Quarto's page then shows (the notebook's JSON after the index).
RECORDING_QUARTO = f"""#!{sys.executable}
import json, os, pathlib, sys, yaml
if sys.argv[1:] == ["--version"]:
    sys.exit(print("1.7.34"))
config = yaml.safe_load(pathlib.Path("_quarto.yml").read_text())
arguments = sys.argv[2:]
with open(os.environ["QUARTO_CALLS"], "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
inputs, arguments = (arguments[:1], arguments[1:]) if arguments and not arguments[0].startswith("-") else (["."], arguments)
first_option = next((i for i, a in enumerate(arguments) if a.startswith("-")), None)
if first_option is None:
    pandoc_inputs = arguments
else:
    inputs, pandoc_inputs = inputs + arguments[:first_option], []
output = pathlib.Path(config["project"]["output-dir"])
output.mkdir(parents=True, exist_ok=True)
for name in (config["project"]["render"] if inputs == ["."] else inputs):
    appended = "".join(pathlib.Path(extra).read_text() for extra in pandoc_inputs)
    (output / (pathlib.Path(name).stem + ".html")).write_text("<html>placeholder</html>" + appended)
"""


def stand_in(tmp_path: Path, monkeypatch, script: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    quarto = bin_dir / "quarto"
    quarto.write_text(script, encoding="utf-8")
    quarto.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return quarto


def test_a_failed_quarto_render_reports_quartos_error_lines_and_the_log(tmp_path, monkeypatch):
    stand_in(tmp_path, monkeypatch, FAILING_QUARTO)
    config = site_topics(tmp_path / "topics.yml", "nothing-yet")
    run = run_build({"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}, "--offline", "--config", str(config),
                    "--output-dir", str(tmp_path / "_site"), renderer="quarto")
    log = tmp_path / "build" / "quarto-render.log"
    assert run.code == 1
    assert run.err.splitlines() == [
        "topic-report: error: quarto render failed (exit 1):",
        "  Project /work/build/site/_quarto.yml validation failed.",
        "  In file /work/build/site/_quarto.yml",
        '  (line 24, columns 10--14) Field "toc" has value maybe, which must instead be true or false',
        "  ✖ The value maybe is of type string.",
        "  ℹ The error happened in location format:html:toc.",
        f"  full log: {log}"]
    full = log.read_text(encoding="utf-8")
    assert "Starting python3 kernel" in full and "at validateProjectConfig" in full and "\x1b" not in run.err


def test_quarto_is_asked_to_render_only_the_pages_that_changed(tmp_path, monkeypatch):
    stand_in(tmp_path, monkeypatch, RECORDING_QUARTO)
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("QUARTO_CALLS", str(calls))
    config = site_topics(tmp_path / "topics.yml", "nothing-yet", "hostile")  # no papers offline: quick pages
    environment = {"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
    args = ("--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site"))

    def build() -> list[list[str]]:
        calls.write_text("")
        run = run_build(environment, *args, renderer="quarto")
        assert run.code == 0, run.err
        return [json.loads(line) for line in calls.read_text().splitlines()]

    assert build() == [["render"]]
    assert build() == []
    topics = yaml.safe_load(config.read_text(encoding="utf-8"))
    topics["topics"][0]["digest_limit"] = 5
    config.write_text(yaml.safe_dump(topics), encoding="utf-8")
    # The index too: its card of the re-executed topic now counts "new since the last build" (— before).
    # One Quarto start for both, each an input (the option after them ends the list).
    assert build() == [["render", "index.qmd", "nothing-yet.ipynb", "--to", "html"]]
    output = tmp_path / "_site"
    for page in ("index.html", "nothing-yet.html"):
        assert (output / page).read_text(encoding="utf-8") == "<html>placeholder</html>"
    topics["topics"][1]["name"] = "Renamed"  # the navbar changes: every page
    config.write_text(yaml.safe_dump(topics), encoding="utf-8")
    assert build() == [["render"]]


# Exits 0 having written nothing (as Quarto does when a file name reaches pandoc as its input).
SILENT_QUARTO = f"""#!{sys.executable}
import sys
if sys.argv[1:] == ["--version"]:
    sys.exit(print("1.7.34"))
"""

# Holds 400 MB until it is killed: what pandoc did when a notebook reached it as markdown.
GREEDY_QUARTO = f"""#!{sys.executable}
import signal, sys
if sys.argv[1:] == ["--version"]:
    sys.exit(print("1.7.34"))
print("rendering", flush=True)
held = bytearray(400 * 2**20)
for i in range(0, len(held), 4096):
    held[i] = 1
signal.pause()
"""


def test_a_render_that_writes_no_page_fails_and_is_not_recorded(tmp_path, monkeypatch):
    stand_in(tmp_path, monkeypatch, SILENT_QUARTO)
    config = site_topics(tmp_path / "topics.yml", "nothing-yet")
    args = ("--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site"))
    environment = {"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
    for _ in range(2):  # not recorded as done: the next build renders again, and fails again
        run = run_build(environment, *args, renderer="quarto")
        assert run.code == 1
        assert run.err.splitlines()[0] == "topic-report: error: quarto render wrote no index.html, nothing-yet.html (exit 0)"


def test_a_render_past_its_memory_bound_is_stopped_and_not_recorded(tmp_path, monkeypatch):
    stand_in(tmp_path, monkeypatch, GREEDY_QUARTO)
    config = site_topics(tmp_path / "topics.yml", "nothing-yet")
    environment = {"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite"), "TOPIC_REPORT_RENDER_MEMORY_MB": "100"}
    run = run_build(environment, "--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site"),
                    renderer="quarto")
    assert run.code == 1
    first, log = run.err.splitlines()
    assert first.startswith("topic-report: error: quarto render stopped: its processes used ")
    assert first.endswith(" MB of memory, more than the bound of 100 MB (TOPIC_REPORT_RENDER_MEMORY_MB)")
    assert log == f"  full log: {tmp_path / 'build' / 'quarto-render.log'}"
    assert "rendering" in (tmp_path / "build" / "quarto-render.log").read_text(encoding="utf-8")
    assert not (tmp_path / "build" / "rendered.json").exists()


def test_a_render_past_its_time_bound_is_stopped(tmp_path, monkeypatch):
    stand_in(tmp_path, monkeypatch, GREEDY_QUARTO.replace("400 * 2**20", "1"))
    config = site_topics(tmp_path / "topics.yml", "nothing-yet")
    environment = {"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite"), "TOPIC_REPORT_RENDER_SECONDS": "1"}
    run = run_build(environment, "--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site"),
                    renderer="quarto")
    assert run.code == 1
    assert run.err.splitlines()[0] == ("topic-report: error: quarto render stopped: it ran longer than the bound "
                                       "of 1 s (TOPIC_REPORT_RENDER_SECONDS)")


@pytest.mark.parametrize("damage", ["", "{", "[]", '{"site": 1, "pages": []}', "\udcff"])
def test_a_damaged_render_state_is_discarded_and_every_page_rendered(tmp_path, damage):
    config = site_topics(tmp_path / "topics.yml", "nothing-yet")
    environment = {"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
    args = ("--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site"))
    assert run_build(environment, *args).code == 0
    state = tmp_path / "build" / "rendered.json"
    state.write_bytes(damage.encode("utf-8", errors="surrogateescape"))
    run = run_build(environment, *args)
    assert run.code == 0, run.err
    assert f"warning: {state} is damaged" in run.err and "every page is rendered again" in run.err
    assert "all 2 pages rendered" in run.out
    assert json.loads(state.read_text(encoding="utf-8"))["pages"].keys() == {"index.html", "nothing-yet.html"}
