"""`topic-report build`: fetch the topics, execute the report notebook once per topic, render the site.

1. Fetch (unless offline) each selected topic (`--topic`; default all) into the store. If arXiv is unreachable, say so once and go
   on with the stored papers; a topic with none then gets the shipped sample. Any other fetch
   failure is reported per topic and makes the exit code 1; the build goes on.
2. Execute notebooks/topic.ipynb with papermill into build/site/<slug>.ipynb, skipping a topic
   whose stored papers, definition and report code are unchanged since the page was executed
   (recorded in build/state.json), and keeping the existing page of a topic whose fetch failed.
3. Render the site of every topic of topics.yml that has a page (so `--topic X` refreshes X's page
   and keeps the others) from build/site/ into the output directory with Quarto, or nbconvert without it, and write
   each topic's markdown digest beside its page (`<slug>.md`).

The working directory build/ sits next to the output directory (`_site` → `build`).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import nbformat
import papermill
import yaml
from papermill.exceptions import PapermillExecutionError
from tqdm import tqdm
from traitlets.config import Config

from helpers import PACKAGE_DIR, PROG, RESOURCES
from helpers.arxiv_source import ArxivSource
from helpers.digest import render_digest
from helpers.fetching import fetch_all
from helpers.sample import load_sample
from helpers.settings import Settings
from helpers.site import TopicPage, front_matter, render_site
from helpers.store import Store, iso, utc_now
from helpers.topics import Topic

NOTEBOOK = RESOURCES / "notebooks" / "topic.ipynb"
# What a page is computed from, besides the data: a change to any of these re-executes every page.
REPORT_CODE = [NOTEBOOK, *sorted(PACKAGE_DIR.glob("*.py"))]
# jupyter_client starts the kernelspec "python3" with this very interpreter (sys.executable), so
# the notebook runs in the project's environment wherever the build runs. Local sockets (ipc)
# rather than TCP ports; the kernel's own log would only add noise to the build's output.
KERNEL = "python3"
KERNEL_CONFIG = Config({"KernelManager": {"transport": "ipc"}})
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
# A cell running longer than this is stuck (a 10,000-paper page takes seconds): fail that page.
CELL_TIMEOUT_SECONDS = 600


def build(topics: list[Topic], settings: Settings, output_dir: Path, offline: bool,
          selected: list[Topic] | None = None) -> int:
    """Fetch and execute the `selected` topics (default: all), render the site of every topic
    with a page; returns the exit code (1 if any selected topic failed)."""
    selected = selected or topics
    output_dir = Path(output_dir)
    work_dir = output_dir.resolve().parent / "build"
    project_dir = work_dir / "site"
    with Store(settings.db_path) as store:
        summary = None if offline else fetch_all(
            selected, store, ArxivSource(settings),
            unreachable_note="; building from the stored papers, or the shipped sample for topics with none")
        fetch_failed = set() if summary is None or summary.unreachable else {t.slug for t in summary.failed}
        if summary is None or summary.unreachable:
            _load_samples(selected, store)
        execute_failed = _execute_all(selected, topics, store, settings.db_path, work_dir, fetch_failed)
        with_page = [t for t in topics if (project_dir / f"{t.slug}.ipynb").exists()]
        pages = [TopicPage(t, store.count(t.slug), store.last_success(t.slug)) for t in with_page]
        digests = {t.slug: render_digest(t.name, store.papers(t.slug, limit=t.digest_limit)) for t in with_page}
    renderer = render_site(pages, project_dir, output_dir)
    for slug, digest in digests.items():  # after rendering: Quarto clears its output directory
        (output_dir / f"{slug}.md").write_text(digest, encoding="utf-8")
    print(f"Site: {output_dir / 'index.html'} and {len(pages)} topic page{'s' if len(pages) != 1 else ''}, "
          f"rendered with {renderer}", flush=True)
    return 1 if fetch_failed or execute_failed else 0


def _load_samples(topics: list[Topic], store: Store) -> None:
    for topic in topics:
        if store.count(topic.slug) == 0:
            loaded = load_sample(topic, store)
            if loaded:
                print(f"{topic.name}: no stored papers; loaded {loaded} from the shipped sample", flush=True)


class BuildState:
    """build/state.json: per topic, what its page was executed from, and when."""

    def __init__(self, path: Path):
        self.path = path
        self.topics: dict[str, dict] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def unchanged(self, slug: str, inputs: dict) -> bool:
        recorded = self.topics.get(slug, {})
        return all(recorded.get(key) == value for key, value in inputs.items())

    def previous_build(self, slug: str) -> str | None:
        return self.topics.get(slug, {}).get("executed_at")

    def record(self, slug: str, inputs: dict, executed_at: str) -> None:
        self.topics[slug] = {**inputs, "executed_at": executed_at}
        self.path.write_text(json.dumps(self.topics, indent=2, sort_keys=True), encoding="utf-8")


def _report_code_digest() -> str:
    digest = hashlib.sha256()
    for path in REPORT_CODE:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _execute_all(topics: list[Topic], all_topics: list[Topic], store: Store, db_path: Path, work_dir: Path,
                 fetch_failed: set[str]) -> list[Topic]:
    """Execute each topic's page unless it is current; returns the topics that failed."""
    project_dir, running_dir = work_dir / "site", work_dir / "executing"
    project_dir.mkdir(parents=True, exist_ok=True)
    running_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / "topics.yml"  # the topics as given to build, for the notebooks to read
    config.write_text(yaml.safe_dump(
        {"topics": [t.model_dump(mode="json", exclude_none=True) for t in all_topics]}, allow_unicode=True),
        encoding="utf-8")
    state = BuildState(work_dir / "state.json")
    code = _report_code_digest()
    failed = []
    for topic in tqdm(topics, desc="Pages", unit="topic", file=sys.stderr, leave=False, disable=None):
        page = project_dir / f"{topic.slug}.ipynb"
        inputs = {"fingerprint": store.fingerprint(topic.slug), "topic": topic.model_dump_json(), "code": code}
        if page.exists() and (topic.slug in fetch_failed or state.unchanged(topic.slug, inputs)):
            reason = "fetch failed" if topic.slug in fetch_failed else "unchanged"
            tqdm.write(f"{topic.name}: {reason}, page kept", file=sys.stdout)
            continue
        started, executed_at = time.monotonic(), iso(utc_now())
        parameters = {"topic": topic.slug, "config": str(config), "db_path": str(Path(db_path).resolve()),
                      "previous_build": state.previous_build(topic.slug)}
        try:
            _execute(topic, running_dir / page.name, parameters)
        except Exception as exc:  # one topic's failure (its notebook or kernel) must not stop the build
            failed.append(topic)
            tqdm.write(f"{PROG}: error: {topic.name}: page not executed: {_one_line(exc)} "
                       f"(see {running_dir / page.name})", file=sys.stderr)
            continue
        (running_dir / page.name).replace(page)
        state.record(topic.slug, inputs, executed_at)
        tqdm.write(f"{topic.name}: page executed in {time.monotonic() - started:.1f} s", file=sys.stdout)
    return failed


def _execute(topic: Topic, target: Path, parameters: dict) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    next(cell for cell in notebook.cells if cell.get("id") == "front-matter").source = front_matter(topic.name)
    papermill.execute_notebook(
        notebook, str(target), parameters=parameters, kernel_name=KERNEL, progress_bar=False,
        request_save_on_cell_execute=False, cwd=str(target.parent), config=KERNEL_CONFIG,
        execution_timeout=CELL_TIMEOUT_SECONDS,
        extra_arguments=KERNEL_ARGUMENTS)


def _one_line(exc: Exception) -> str:
    name, message = ((exc.ename, exc.evalue) if isinstance(exc, PapermillExecutionError)
                     else (type(exc).__name__, str(exc)))
    lines = message.strip().splitlines()
    return f"{name}: {lines[0]}" if lines else name
