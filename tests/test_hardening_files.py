"""Issue 11, files, machine and names: damaged and odd input refused in one line, nothing lost."""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import textwrap

import nbformat
import pytest
import yaml
from markdown_it import MarkdownIt

from topic_report import TopicReportError
from topic_report import build as build_module
from topic_report.report import TopicReport
from topic_report.topic_files import topic_file_names
from topic_report.topics import Topic, load_topics, select

from conftest import ROOT
from site_data import HOSTILE_TOPIC, hostile_records, run_build, site_topics
from test_fetch import SEED_WINDOW, dump

TOPIC = "  - name: {name}\n    slug: '{slug}'\n    terms: [x]\n"


def topics_file(tmp_path, *entries: tuple[str, str], extra: str = ""):
    path = tmp_path / "topics.yml"
    path.write_text("topics:\n" + "".join(TOPIC.format(name=n, slug=s) for n, s in entries) + extra,
                    encoding="utf-8")
    return path


def run(*args, env=None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "topic_report", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)


def one_line_error(result, expected: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr, result.stderr


# --- Names -------------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", ["index", "search", "sitemap", "listings", "404", "robots"])
def test_a_slug_the_site_uses_itself_is_refused(tmp_path, slug):
    with pytest.raises(TopicReportError) as error:
        load_topics(topics_file(tmp_path, ("Mine", slug)))
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'topics.yml'}:2: topic 'Mine': slug: '{slug}' is reserved")
    assert "\n" not in message


@pytest.mark.parametrize("name", ['"A\\nB"', '"x\\n```\\n[click](javascript:alert(1))"', '"tab\\there"',
                                  '"line\\u2028separator"', '"   "'])
def test_a_topic_name_must_be_one_line(tmp_path, name):
    with pytest.raises(TopicReportError) as error:
        load_topics(topics_file(tmp_path, (name, "t")))
    assert ": name: must" in str(error.value) and "\n" not in str(error.value)


def test_a_name_equal_to_another_topics_slug_is_refused(tmp_path):
    path = topics_file(tmp_path, ("NeRF", "nerf"), ("Other", "other"), ("Nerf", "gaussians"))
    with pytest.raises(TopicReportError, match="duplicate topic name 'Nerf'"):
        load_topics(path)
    path = topics_file(tmp_path, ("Neural Fields", "nerf"), ("NERF", "gaussians"))
    with pytest.raises(TopicReportError) as error:
        load_topics(path)
    assert str(error.value) == f"{path}: topic name 'NERF' is the slug of topic 'Neural Fields'"


def test_topics_are_found_by_slug_first_then_by_name():
    # A file like this is refused (above); a list made in code still resolves the slug first.
    topics = [Topic(name="Gaussian Splatting", slug="gs", terms=["x"]), Topic(name="GS", slug="gs-survey", terms=["x"])]
    assert [t.name for t in select(topics, ["gs"])] == ["Gaussian Splatting"]
    assert [t.name for t in select(topics, ["GS"])] == ["Gaussian Splatting"]  # slugs first, any case
    assert [t.name for t in select(topics, ["gs-survey", "gaussian splatting"])] == ["GS", "Gaussian Splatting"]


# --- Small crashes -----------------------------------------------------------------------------

@pytest.mark.parametrize("extra, expected", [
    ("    window_days: 1000000\n", "topic 'A': window_days: 1000000 days reaches back before arXiv's first paper"),
    ("    since: 1990-01-01\n", "topic 'A': since: 1990-01-01 is before arXiv's first paper (1991-08-14)"),
    ("    since: 2999-01-01\n", "topic 'A': since: 2999-01-01 is in the future"),
])
def test_windows_outside_arxivs_life_are_refused(tmp_path, extra, expected):
    path = topics_file(tmp_path, ("A", "a"), extra=extra)
    result = run("fetch", "--config", str(path), env={"TOPIC_REPORT_DB": str(tmp_path / "s.sqlite")})
    one_line_error(result, f"{path}:2: {expected}")


def test_a_topics_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "topics.yml"
    path.write_bytes(textwrap.dedent("""\
        topics:
          - name: Caf\xe9
            slug: cafe
            terms: [x]
        """).encode("latin-1"))
    result = run("fetch", "--config", str(path), env={"TOPIC_REPORT_DB": str(tmp_path / "s.sqlite")})
    one_line_error(result, f"{path}:2: not UTF-8 text (byte 0xe9)")


# --- The store: a full disk, reading commands that must not create one ----------------------------

def bulky_papers(sample_records, count: int) -> list[dict]:
    """`count` papers of the 3D topic in the seed window, each with a 5 kB abstract."""
    template = sample_records[0]
    return [{**template, "id": f"2602.{50000 + n}", "title": f"Point cloud study {n}",
             "abstract": f"Point clouds, part {n}. " + "Dense point cloud geometry. " * 180} for n in range(count)]


def fetch_seed_then_dump(cli, env):
    code, _, err = cli("fetch", "--topic", "3d-reconstruction", *SEED_WINDOW)
    assert code == 0, err
    return dump(env / "papers.sqlite")


def assert_store_intact(path, before) -> None:
    assert dump(path) == before
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def user_namespaces_work() -> bool:
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                              capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(not user_namespaces_work(), reason="needs unprivileged user namespaces (unshare) "
                    "to mount a small tmpfs; test_a_file_size_limit_during_a_fetch_… covers the same path")
def test_a_full_disk_during_a_fetch_says_disk_full_and_keeps_the_store(env, cli, emulator, sample_records):
    """A real full disk: the store is copied onto a 64 kB-roomier tmpfs mounted in a private user
    and mount namespace (no privileges needed), and the fetch runs there until the disk is full."""
    before = fetch_seed_then_dump(cli, env)
    emulator.add(bulky_papers(sample_records, 400))  # about 2 MB to store
    store = env / "papers.sqlite"
    disk, kept = env / "small-disk", env / "after"
    disk.mkdir()
    kept.mkdir()
    size_kb = store.stat().st_size // 1024 + 64
    script = ('mount -t tmpfs -o size="$1"k tmpfs "$2" && cp "$3" "$2"/ && '
              'TOPIC_REPORT_DB="$2"/papers.sqlite "$5" -m topic_report fetch --topic 3d-reconstruction "$6" "$7" "$8" "$9"; '
              'code=$?; cp "$2"/papers.sqlite* "$4"/; exit $code')
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", str(size_kb), str(disk),
         str(store), str(kept), sys.executable, *SEED_WINDOW],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300)
    one_line_error(result, "3D Reconstruction: store ")
    assert "disk full (database or disk is full); nothing of this fetch was saved" in result.stderr
    assert "cannot rollback" not in result.stderr
    assert_store_intact(kept / "papers.sqlite", before)


def test_a_file_size_limit_during_a_fetch_fails_in_one_line_and_keeps_the_store(env, cli, emulator, sample_records):
    """RLIMIT_FSIZE (the kernel refuses to grow any file past it) runs where namespaces are not allowed."""
    before = fetch_seed_then_dump(cli, env)
    emulator.add(bulky_papers(sample_records, 400))
    limit = (env / "papers.sqlite").stat().st_size + 64 * 1024
    result = subprocess.run(
        [sys.executable, "-m", "topic_report", "fetch", "--topic", "3d-reconstruction", *SEED_WINDOW],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    one_line_error(result, "3D Reconstruction: store ")
    assert "disk I/O error; nothing of this fetch was saved" in result.stderr
    assert "cannot rollback" not in result.stderr
    assert_store_intact(env / "papers.sqlite", before)


def test_digest_never_creates_a_store(tmp_path):
    missing = tmp_path / "typo" / "papers.sqlite"
    result = run("digest", "--topic", "3d-reconstruction", env={"TOPIC_REPORT_DB": str(missing)})
    one_line_error(result, f"topic-report: error: no store at {missing}: fetch papers first")
    assert result.stdout == "" and not missing.parent.exists()


def test_the_notebook_never_creates_a_store(tmp_path):
    missing = tmp_path / "typo" / "papers.sqlite"
    with pytest.raises(TopicReportError, match=f"no store at {re.escape(str(missing))}"):
        TopicReport.load(topic="3d-reconstruction", db_path=str(missing))
    assert not missing.parent.exists()


# --- The build: state, kernels, folders, stale pages ---------------------------------------------

def empty_topics(path, *slugs: str):
    """Topics matching nothing: their pages execute quickly ("No papers yet")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("topics:\n" + "".join(
        f"  - {{name: Topic {slug}, slug: {slug}, terms: [no such phrase anywhere]}}\n" for slug in slugs),
        encoding="utf-8")
    return path


def offline_build(tmp_path, config, output, *extra):
    return run_build({"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}, "--offline", "--config", str(config),
                     "--output-dir", str(output), *extra)


def test_a_damaged_state_file_is_discarded_and_the_pages_executed_again(tmp_path):
    config = empty_topics(tmp_path / "topics.yml", "alpha")
    assert offline_build(tmp_path, config, tmp_path / "_site").code == 0
    state = tmp_path / "build" / "state.json"
    for damage in (state.read_bytes()[:40], b'{"alpha": 3}'):  # truncated; valid JSON of another shape
        state.write_bytes(damage)
        run = offline_build(tmp_path, config, tmp_path / "_site")
        assert run.code == 0, run.err
        assert run.err.startswith(f"topic-report: warning: {state} is damaged (")
        assert run.err.strip().endswith("discarded: every page is executed again")
        assert "Topic alpha: page executed in" in run.out
        assert json.loads(state.read_text())["pages"]["alpha"]["papers"] == 0
    earlier, before = tmp_path / "earlier-state.json", state.read_bytes()
    os.link(state, earlier)  # the same file: a write in place would change it too
    rerun = offline_build(tmp_path, config, tmp_path / "_site")
    assert rerun.err == "" and "Topic alpha: unchanged, page kept" in rerun.out
    assert earlier.read_bytes() == before and earlier.stat().st_ino != state.stat().st_ino  # replaced whole


PROBE = """\
import json, os
from pathlib import Path
import ipykernel.connect
connection_file = ipykernel.connect.get_connection_file()
info = json.loads(Path(connection_file).read_text())
Path(config).with_name("kernel-probe.json").write_text(json.dumps({
    "connection_file": connection_file, "transport": info["transport"], "ip": info["ip"],
    "mode": os.stat(os.path.dirname(connection_file)).st_mode & 0o777, "cwd": os.listdir(".")}))
"""


def test_each_kernel_has_its_connection_files_in_a_private_folder(tmp_path, monkeypatch):
    probe = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell("---\ntitle: x\n---"),
        nbformat.v4.new_code_cell("topic = config = db_path = previous_build = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(PROBE),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    probe.cells[0]["id"] = "front-matter"
    nbformat.write(probe, tmp_path / "probe.ipynb")
    monkeypatch.setattr(build_module, "NOTEBOOK", tmp_path / "probe.ipynb")
    run = offline_build(tmp_path, empty_topics(tmp_path / "topics.yml", "alpha"), tmp_path / "_site")
    assert run.code == 0, run.err
    seen = json.loads((tmp_path / "build" / "kernel-probe.json").read_text())
    private = os.path.dirname(seen["connection_file"])
    assert seen["transport"] == "ipc" and seen["ip"].startswith(private + os.sep)
    assert seen["mode"] == 0o700 and not private.startswith(str(ROOT))
    assert not [name for name in seen["cwd"] if name.startswith("kernel")]  # nothing in the checkout
    assert not os.path.exists(private)  # removed after the page


def start_build(folder, *extra):
    config = empty_topics(folder / "topics.yml", "alpha", "beta")
    environment = {**os.environ, "TOPIC_REPORT_DB": str(folder / "papers.sqlite")}
    return subprocess.Popen([sys.executable, "-m", "topic_report", "build", "--offline", "--config", str(config),
                             "--output-dir", str(folder / "_site"), *extra],
                            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_builds_at_once_into_different_folders_both_succeed(tmp_path):
    builds = [start_build(tmp_path / name) for name in ("one", "two")]
    results = [build.communicate(timeout=600) for build in builds]
    assert [build.returncode for build in builds] == [0, 0], results
    for name in ("one", "two"):
        for slug in ("alpha", "beta"):
            assert "No papers yet" in (tmp_path / name / "_site" / f"{slug}.html").read_text(encoding="utf-8")


def test_a_second_build_of_one_project_waits_for_the_first(tmp_path):
    work = tmp_path / "build"
    work.mkdir()
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a build of this project is running
        waiting = start_build(tmp_path)
        assert waiting.stdout.readline() == f"Waiting for another build using {work} to finish\n"
    out, err = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, err
    assert "and 2 topic pages" in out


@pytest.mark.parametrize("output", ["/proc/x", "/dev/null/site"])
def test_an_output_directory_that_cannot_be_made_is_one_line(tmp_path, output):
    config = empty_topics(tmp_path / "topics.yml", "alpha")
    result = run("build", "--offline", "--config", str(config), "--output-dir", output,
                 env={"TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")})
    one_line_error(result, f"topic-report: error: cannot write to the output directory {output}: ")


def test_working_files_stay_in_the_project_and_stale_pages_go(tmp_path):
    """`--output-dir a/b/site` makes no a/b/build; a removed or renamed topic's outputs leave the site."""
    project, output = tmp_path / "project", tmp_path / "a" / "b" / "site"
    config = empty_topics(project / "topics.yml", "alpha", "beta", "gamma")
    first = offline_build(tmp_path, config, output)
    assert first.code == 0, first.err
    assert f"(working files in {project / 'build'})" in first.out
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["site"]
    (output / "beta.bib").write_text("an export of beta\n")  # any other output of the topic's
    (output / "beta_files").mkdir()
    (output / "notes.txt").write_text("mine\n")
    (output / "beta.txt").write_text("mine too: not a file the build writes\n")
    config.write_text(config.read_text().replace("slug: gamma", "slug: gamma-2").replace(
        "  - {name: Topic beta, slug: beta, terms: [no such phrase anywhere]}\n", ""))
    second = offline_build(tmp_path, config, output)
    assert second.code == 0, second.err
    kept = [name for slug in ("alpha", "gamma-2") for name in topic_file_names(slug) if (output / name).is_file()]
    assert sorted(p.name for p in output.iterdir()) == sorted([*kept, "all.atom", "assets", "beta.txt", "feeds.opml",
                                                               "index.html", "notes.txt"])
    assert {"alpha.html", "alpha.md", "alpha.atom", "alpha.bib", "alpha.ris", "alpha.csv", "alpha.json"} <= set(kept)
    assert sorted(p.name for p in (project / "build" / "site").glob("*.ipynb")) == ["alpha.ipynb", "gamma-2.ipynb"]


def test_a_build_with_another_store_keeps_the_published_page(tmp_path, emulator):
    """A build run with another (here: new) store says it created one, and does not replace a
    page of stored papers with "No papers yet"."""
    config = site_topics(tmp_path / "topics.yml", "hostile")
    emulator.add(hostile_records())
    first = run_build({**emulator.environment(), "ARXIV_DELAY_SECONDS": "0",
                       "TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")},
                      "--config", str(config), "--output-dir", str(tmp_path / "_site"))
    assert first.code == 0, first.err
    page = (tmp_path / "_site" / "hostile.html").read_text(encoding="utf-8")
    other = tmp_path / "elsewhere" / "papers.sqlite"
    second = run_build({"TOPIC_REPORT_DB": str(other)}, "--offline", "--config", str(config),
                       "--output-dir", str(tmp_path / "_site"))
    assert second.code == 1
    assert second.out.startswith(f"No store at {other}: created a new one\n")
    assert second.err.strip() == (f"topic-report: error: {HOSTILE_TOPIC}: the store {other} holds none of its "
                                  "papers, its page shows 2; page kept (is TOPIC_REPORT_DB the right store?)")
    assert (tmp_path / "_site" / "hostile.html").read_text(encoding="utf-8") == page


ODD_NAME = "[click](javascript:alert(1)) {{< env HOME >}} `code` <b>x</b> *y* ---"


def markdown_text(markdown: str) -> tuple[str, str]:
    """(the HTML CommonMark makes of `markdown`, the text a reader sees in it)."""
    rendered = MarkdownIt("commonmark").render(markdown)
    return rendered, html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


def test_a_topic_name_reaches_the_quarto_files_as_inert_text(tmp_path):
    """The navbar (_quarto.yml), the page title (front matter) and index.qmd's raw HTML block are
    read by Quarto as YAML, markdown and its own syntax: the name must show as written, nothing more."""
    config = tmp_path / "topics.yml"
    config.write_text(yaml.safe_dump({"topics": [{"name": ODD_NAME, "slug": "odd", "terms": ["no such phrase"]}]}),
                      encoding="utf-8")
    run = offline_build(tmp_path, config, tmp_path / "_site")
    assert run.code == 0, run.err
    project = tmp_path / "build" / "site"
    navbar = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8"))["website"]["navbar"]["left"]
    front = nbformat.read(project / "odd.ipynb", as_version=4).cells[0].source
    title = yaml.safe_load(front.strip().strip("-"))["title"]
    for markdown in (navbar[0]["text"], title):
        assert "{{<" not in markdown
        rendered, shown = markdown_text(markdown)
        assert shown == ODD_NAME
        assert not re.search(r"<(a|b|em|code|hr)\b", rendered)
    index = (project / "index.qmd").read_text(encoding="utf-8")
    block = index.split("```{=html}\n", 1)[1]
    assert block.count("```") == 1 and block.endswith("```\n")  # only the block's own closing fence
    assert "{{<" not in block and html.escape(ODD_NAME, quote=False) not in block
    for page in (tmp_path / "_site").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", text)
