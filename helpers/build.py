"""`topic-report build`: fetch the topics, execute the report notebook once per topic, render the site.

1. Fetch (unless offline) each selected topic (`--topic`; default all) into the store. If arXiv is unreachable, say so once and go
   on with the stored papers; a topic with none then gets the shipped sample. Any other fetch
   failure is reported per topic and makes the exit code 1; the build goes on.
2. Execute notebooks/topic.ipynb with papermill into build/site/<slug>.ipynb, skipping a topic
   whose stored papers, definition and report code are unchanged since the page was executed
   (recorded in build/state.json), and keeping the existing page of a topic whose fetch failed.
3. Render the site of every topic of topics.yml that has a page (so `--topic X` refreshes X's page
   and keeps the others) from build/site/ into the output directory with Quarto, or nbconvert without it, and write
   beside each page its markdown digest and exports (`<slug>.md`, `.atom`, `.bib`, `.ris`, `.csv`, `.json`:
   helpers/exports.py), and beside the index the feed of every topic and the list of feeds (`all.atom`, `feeds.opml`).

Working files go to the work directory, `build/` beside the topics file: one per project, whatever
the output directory, taken by one build at a time (a lock file); its state.json records which
topics each output directory holds, so the pages of a removed or renamed topic are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict
from tqdm import tqdm

from topic_report import PACKAGE_DIR, PROG, RESOURCES, TopicReportError, first_line, read_state, write_atomically
from topic_report.audit import audited_listing
from topic_report.bounded import Limits
from topic_report.settings import Settings
from topic_report.site import (
    TopicPage,
    base_config,
    front_matter,
    render_site,
    search_papers,
    table_library,
    write_table_library,
)
from topic_report.store import Store, iso, utc_now
from topic_report.topic_files import DETAILS, DIGEST, SITE_FILES, file_name, topic_file_names
from topic_report.topics import Topic

if TYPE_CHECKING:
    from topic_report.topic_data import TopicData

NOTEBOOK = RESOURCES / "notebooks" / "topic.ipynb"
# What a page is computed from, besides the data: a change to any of these re-executes every page.
REPORT_CODE = [NOTEBOOK, *sorted(PACKAGE_DIR.glob("*.py")), *sorted((PACKAGE_DIR / "page").glob("*.j2")),
               *sorted((PACKAGE_DIR / "assets").iterdir())]
# jupyter_client starts the kernelspec "python3" with this very interpreter (sys.executable), so
# the notebook runs in the project's environment wherever the build runs. Local sockets (ipc)
# rather than TCP ports, in a private folder per kernel (see _started_kernel); the kernel's own log
# would only add noise to the build's output, its history to the user's IPython history (nbclient
# keeps it in memory for the kernels it starts; the build starts its own). It imports the report
# as it starts, before its first cell (IPKernelApp's exec_lines): that start overlaps with the
# build loading the topic.
KERNEL = "python3"
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.hist_file=:memory:",
                    "--IPKernelApp.exec_lines=import topic_report.report"]
# A cell running longer than this is stuck (a 10,000-paper page takes seconds): fail that page.
CELL_TIMEOUT_SECONDS = 600
# How long a finished cell's output may take to arrive: papermill fails the page past nbclient's
# default of 4 s, which a 10,000-paper table's output overran on the loaded 2-core machine.
OUTPUT_TIMEOUT_SECONDS = 120


def build(topics: list[Topic], settings: Settings, output_dir: Path, *, work_dir: Path, offline: bool,
          selected: list[Topic] | None = None, own_config: Path | None = None) -> int:
    """Fetch and execute the `selected` topics (default: all), render the site of every topic
    with a page (with the project's own _quarto.yml, if any); returns the exit code (1 if any
    selected topic failed)."""
    base_config(own_config)  # a broken _quarto.yml fails before any work
    # nbformat (papermill's, nbconvert's) imports jsonschema, which compiles rfc3987_syntax's IRI
    # grammar where that is installed (2 s of CPU, most of the import) for format checks that
    # nbformat's validation never makes: left out (a module that is None in sys.modules is not imported).
    sys.modules.setdefault("rfc3987_syntax", None)
    selected = selected or topics
    output_dir = Path(output_dir).absolute()
    work_dir = Path(work_dir).absolute()
    project_dir = work_dir / "site"
    for folder, what in ((output_dir, "output directory"), (project_dir, "work directory")):
        _writable_dir(folder, what)
    with _exclusive(work_dir), Store(settings.db_path) as store:
        if store.created:
            print(f"No store at {store.path}: created a new one", flush=True)
        if not offline:
            store.check_writable()
        summary = None if offline else _fetch_all(
            selected, store, settings,
            unreachable_note="; building from the stored papers, or the shipped sample for topics with none",
            everything=topics)
        fetch_failed = set() if summary is None or summary.unreachable else {t.slug for t in summary.failed}
        if summary is None or summary.unreachable:
            _load_samples(selected, store)
        state = BuildState(work_dir / "state.json")
        executed, execute_failed = _execute_all(selected, topics, store, settings.db_path, work_dir, state, fetch_failed,
                                                settings.site_url)
        with_page = [t for t in topics if (project_dir / f"{t.slug}.ipynb").exists()]
        pages, files, newest = [], {}, []  # files: name in the output directory → the file to copy there
        for topic in with_page:
            outputs = executed.get(topic.slug) or _topic_outputs(topic, store, state, work_dir / "topics", output_dir,
                                                                 settings.site_url)
            pages.append(outputs.page)
            files.update(outputs.files)
            newest.append(outputs.newest)
        site_wide = {}
        if files or any(not (output_dir / name).is_file() for name in SITE_FILES):
            # Here, when a topic's papers changed: the feed of every topic needs pandas.
            import pandas as pd

            from topic_report.exports import site_files

            site_wide = site_files(with_page, [pd.read_pickle(path) for path in newest], settings.site_url)
        try:
            rendering = render_site(pages, project_dir, output_dir,
                                    Limits(settings.render_memory_mb, settings.render_seconds), own_config)
            # After rendering, which creates the output directory.
            for name, made in files.items():
                shutil.copyfile(made, output_dir / name)
            for name, content in site_wide.items():
                (output_dir / name).write_bytes(content)
            write_table_library(output_dir)
        except OSError as exc:
            raise TopicReportError(f"cannot write the site into {output_dir}: {exc.strerror or exc}") from None
        _remove_stale(state, topics, [page.topic.slug for page in pages], project_dir, output_dir)
    print(f"Site: {output_dir / 'index.html'} and {len(pages)} topic page{'s' if len(pages) != 1 else ''}, "
          f"rendered with {rendering} (working files in {work_dir})", flush=True)
    return 1 if fetch_failed or execute_failed else 0


NEWEST = "newest.pickle"  # in a topic's folder of build/topics/


class TopicOutputs(NamedTuple):
    page: TopicPage          # its index card and site-search record
    files: dict[str, Path]   # its digest and exports, made in the work directory: name → file, to copy beside its page
    newest: Path             # its newest papers (a pickled frame), for the feed of every topic: read only when needed


def _fetch_all(topics: list[Topic], store: Store, settings: Settings, unreachable_note: str, everything: list[Topic]):
    # Here, when a build fetches: the network layer is most of an offline build's imports.
    from topic_report.arxiv.paging import ArxivSource
    from topic_report.fetching import fetch_all

    return fetch_all(topics, store, ArxivSource(settings), unreachable_note=unreachable_note, everything=everything)


def _topic_outputs(topic: Topic, store: Store, state: BuildState, cache_dir: Path, output_dir: Path,
                   site_url: str | None) -> TopicOutputs:
    """The topic's index card, site-search record, the files beside its page and its newest papers,
    as kept in `cache_dir` (the files in its folder `<slug>/`, the rest in `<slug>.pickle`) when its
    page was executed: an unchanged topic costs no work (its files are copied again only where the
    output directory lacks one). Made again from its data if the cache lacks them."""
    cache = cache_dir / f"{topic.slug}.pickle"
    key = _outputs_key(state, topic, site_url)
    try:
        cached_key, outputs = pickle.loads(cache.read_bytes())
        if cached_key == key and all(made.is_file() for made in [*outputs.files.values(), outputs.newest]):
            return outputs._replace(files={name: made for name, made in outputs.files.items()
                                           if not (output_dir / name).is_file()})
    except (OSError, pickle.UnpicklingError, ValueError, TypeError, EOFError, AttributeError, ImportError):
        pass  # none yet, damaged, or from another release: made again
    from topic_report.topic_data import TopicData  # here, for a topic whose page changed: it needs pandas

    previous = state.page_previous_build(topic.slug)
    data = TopicData.load(store, topic, previous_build=datetime.fromisoformat(previous) if previous else None)
    folder = cache_dir / topic.slug
    made = _made_outputs(data, folder, site_url, store.citation_keys())
    return _kept_outputs(made, folder, store, cache, key)


def _outputs_key(state: BuildState, topic: Topic, site_url: str | None) -> tuple:
    """What a topic's cached outputs were made from: its page's whole record (its data's
    fingerprint, topic, code, when), so a page executed again from other data within the same
    second still gets outputs made from that data."""
    return json.dumps(state.pages.get(topic.slug), sort_keys=True), site_url


class MadeOutputs(NamedTuple):
    page: TopicPage             # its index card and site-search record
    names: list[str]            # the files written (digest and exports), in their folder
    keys: dict[str, str]        # the BibTeX keys its exports gave, by paper id: for the store to keep


def _made_outputs(data: TopicData, folder: Path, site_url: str | None, exported: dict[str, str]) -> MadeOutputs:
    """Write the topic's digest, exports and newest papers into `folder`, from its data; the
    store is not touched (this may run beside the page's execution, in another thread)."""
    # Here, for a topic whose page changed: the digest and exports need pandas and the exporters.
    from topic_report.digest import render_digest
    from topic_report.exports import FEED_ENTRIES, citation_keys, write_exports
    from topic_report.overview import topic_overview

    topic = data.topic
    folder.mkdir(parents=True, exist_ok=True)
    digest = file_name(topic.slug, DIGEST)
    write_atomically(folder / digest, render_digest(topic.name, data.papers[:topic.digest_limit]))
    names = [digest, *write_exports(topic, data.frame, folder, site_url, exported)]
    # Apart from the cache: unpickling a frame imports pandas, which a build with nothing changed need not.
    data.frame.head(FEED_ENTRIES).to_pickle(folder / NEWEST)
    return MadeOutputs(TopicPage(topic, topic_overview(data), search_papers(data.frame)), names,
                       dict(zip(data.frame["id"], citation_keys(data.frame, exported), strict=False)))


def _kept_outputs(made: MadeOutputs, folder: Path, store: Store, cache: Path, key: tuple) -> TopicOutputs:
    """The outputs written into `folder`, their citation keys kept in the store and the rest in `cache`."""
    outputs = TopicOutputs(made.page, {name: folder / name for name in made.names}, folder / NEWEST)
    store.keep_citation_keys(made.keys)
    write_atomically(cache, pickle.dumps((key, outputs)))
    return outputs


def _writable_dir(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise TopicReportError(f"cannot write to the {what} {folder}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _exclusive(work_dir: Path) -> Iterator[None]:
    """One build at a time per work directory: a second one waits (two builds would interleave
    their state, notebooks and Quarto project)."""
    with open(work_dir / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Waiting for another build using {work_dir} to finish", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _remove_stale(state: BuildState, topics: list[Topic], published: list[str], project_dir: Path,
                  output_dir: Path) -> None:
    """Remove what earlier builds wrote into `output_dir` for topics it no longer holds (a topic
    removed from topics.yml or renamed): its page, digest, exports and figures (`topic_file_names`),
    nothing else of the folder, which may be the project's own; forget removed topics."""
    for slug in sorted(set(state.published(output_dir)) - set(published)):
        for path in (output_dir / name for name in topic_file_names(slug)):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    known = {t.slug for t in topics}
    for slug in sorted(set(state.pages) - known):
        for name in (f"{slug}.ipynb", file_name(slug, DETAILS)):
            (project_dir / name).unlink(missing_ok=True)
        del state.pages[slug]
    state.record_site(output_dir, published)


def _load_samples(topics: list[Topic], store: Store) -> None:
    for topic in topics:
        if store.count(topic.slug) == 0:
            from topic_report.sample import load_sample  # the feed reader, for a topic without papers only

            loaded = load_sample(topic, store)
            if loaded:
                print(f"{topic.name}: no stored papers; loaded {loaded} from the shipped sample", flush=True)


class _BuildStateFile(BaseModel):
    """What build/state.json holds (format 1); a file from before the format number held the pages only."""

    model_config = ConfigDict(extra="forbid")
    format: Literal[1]
    pages: dict[str, dict[str, Any]]
    sites: dict[str, list[str]]


def _with_format(data):
    """A state file from before the format number held the pages only."""
    return {"format": BuildState.FORMAT, "pages": data, "sites": {}} if isinstance(data, dict) and "format" not in data else data


class BuildState:
    """build/state.json: per topic, what its page was executed from, and when; per output
    directory, the topics it holds. Written whole into a new file that replaces the old one, so
    a build killed while writing leaves the previous state; a damaged file is discarded (the
    pages are then executed again)."""

    FORMAT = 1

    def __init__(self, path: Path):
        self.path = path
        self.pages: dict[str, dict] = {}
        self.sites: dict[str, list[str]] = {}
        recorded = read_state(path, _BuildStateFile, "every page is executed again", _with_format)
        if recorded:
            self.pages, self.sites = recorded.pages, recorded.sites

    def unchanged(self, slug: str, inputs: dict) -> bool:
        recorded = self.pages.get(slug, {})
        return all(recorded.get(key) == value for key, value in inputs.items())

    def previous_build(self, slug: str) -> str | None:
        return self.pages.get(slug, {}).get("executed_at")

    def papers_shown(self, slug: str) -> int:
        """How many papers the topic's current page was executed from (0 if unknown)."""
        papers = self.pages.get(slug, {}).get("papers")
        return papers if isinstance(papers, int) else 0

    def published(self, output_dir: Path) -> list[str]:
        return self.sites.get(str(output_dir), [])

    def page_previous_build(self, slug: str) -> str | None:
        """The build before the one that executed the topic's current page: its "new since" counts from there."""
        return self.pages.get(slug, {}).get("previous_build")

    def record(self, slug: str, inputs: dict, papers: int, executed_at: str) -> None:
        self.pages[slug] = {**inputs, "papers": papers, "executed_at": executed_at,
                            "previous_build": self.previous_build(slug)}
        self._save()

    def record_site(self, output_dir: Path, slugs: list[str]) -> None:
        self.sites[str(output_dir)] = slugs
        self._save()

    def _save(self) -> None:
        write_atomically(self.path, json.dumps({"format": self.FORMAT, "pages": self.pages, "sites": self.sites},
                                               indent=2, sort_keys=True))


def _report_code_digest() -> str:
    digest = hashlib.sha256()
    for path in REPORT_CODE:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _execute_all(topics: list[Topic], all_topics: list[Topic], store: Store, db_path: Path, work_dir: Path,
                 state: BuildState, fetch_failed: set[str], site_url: str | None,
                 ) -> tuple[dict[str, TopicOutputs], list[Topic]]:
    """Execute each topic's page unless it is current; returns the outputs of the pages executed
    (by slug) and the topics that failed. A topic's data is loaded once, here: its page is executed
    from it (the notebook's `topic_data`) while its digest and exports are written from it beside
    (a thread: the build process only waits for the kernel meanwhile)."""
    project_dir, running_dir, cache_dir = work_dir / "site", work_dir / "executing", work_dir / "topics"
    running_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / "topics.yml"  # the topics as given to build, for the notebooks to read
    config.write_text(yaml.safe_dump(
        {"topics": [t.model_dump(mode="json", exclude_none=True) for t in all_topics]}, allow_unicode=True),
        encoding="utf-8")
    code = _report_code_digest()
    executed, failed = {}, []
    for topic in tqdm(topics, desc="Pages", unit="topic", file=sys.stderr, leave=False, disable=None):
        page = project_dir / f"{topic.slug}.ipynb"
        inputs = {"fingerprint": store.fingerprint(topic.slug, audited_listing(topic)), "topic": topic.model_dump_json(), "code": code}
        papers, shown = store.count(topic.slug), state.papers_shown(topic.slug)
        if page.exists() and papers == 0 and shown:
            # The store never loses a topic's papers: this is another store (TOPIC_REPORT_DB, or a
            # relative path from another folder). Its "No papers yet" must not replace the page.
            failed.append(topic)
            tqdm.write(f"{PROG}: error: {topic.name}: the store {Path(db_path).absolute()} holds none of its papers, "
                       f"its page shows {shown:,}; page kept (is TOPIC_REPORT_DB the right store?)", file=sys.stderr)
            continue
        if page.exists() and (topic.slug in fetch_failed or state.unchanged(topic.slug, inputs)):
            reason = "fetch failed" if topic.slug in fetch_failed else "unchanged"
            tqdm.write(f"{topic.name}: {reason}, page kept", file=sys.stdout)
            continue
        started, executed_at = time.monotonic(), iso(utc_now())
        from topic_report.topic_data import TopicData  # here, for a page to execute: it needs pandas

        previous = state.previous_build(topic.slug)
        data_file, made_in = running_dir / f"{topic.slug}.data.pickle", running_dir / topic.slug
        shutil.rmtree(made_in, ignore_errors=True)
        details = running_dir / file_name(topic.slug, DETAILS)  # the kernel writes the table's details there
        details.unlink(missing_ok=True)
        parameters = {"topic": topic.slug, "config": str(config), "db_path": str(Path(db_path).resolve()),
                      "previous_build": previous, "table_library": table_library(), "topic_data": str(data_file),
                      "table_details": str(details)}
        try:  # one topic's failure (its kernel, its notebook) must not stop the build
            with _started_kernel(running_dir) as kernel:  # starting while the topic loads
                data = TopicData.load(store, topic,
                                      previous_build=datetime.fromisoformat(previous) if previous else None)
                with data_file.open("wb") as handed:  # streamed: a large topic's pickle is never whole in memory
                    pickle.dump(data, handed, protocol=pickle.HIGHEST_PROTOCOL)
                with ThreadPoolExecutor(max_workers=1) as beside:
                    making = beside.submit(_made_outputs, data, made_in, site_url, store.citation_keys())
                    del data  # the thread's: freed when it is done
                    try:
                        _execute(topic, running_dir / page.name, parameters, kernel)
                    finally:
                        made = making.result()
        except Exception as error:  # its page and outputs stay those of its last execution
            shutil.rmtree(made_in, ignore_errors=True)
            details.unlink(missing_ok=True)
            failed.append(topic)
            tqdm.write(f"{PROG}: error: {topic.name}: page not executed: {_one_line(error)} "
                       f"(see {running_dir / page.name})", file=sys.stderr)
            continue
        finally:
            data_file.unlink(missing_ok=True)
        (running_dir / page.name).replace(page)
        if details.is_file():  # kept beside the page it belongs to, and published with it (site.py)
            details.replace(project_dir / details.name)
        else:  # a page without a table (no papers)
            (project_dir / details.name).unlink(missing_ok=True)
        state.record(topic.slug, inputs, papers, executed_at)
        folder = cache_dir / topic.slug
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        made_in.replace(folder)
        executed[topic.slug] = _kept_outputs(made, folder, store, cache_dir / f"{topic.slug}.pickle",
                                             _outputs_key(state, topic, site_url))
        tqdm.write(f"{topic.name}: page executed in {time.monotonic() - started:.1f} s", file=sys.stdout)
    return executed, failed


@contextlib.contextmanager
def _started_kernel(cwd: Path) -> Iterator[Any]:
    """A notebook kernel for one page, started now (it starts and imports the report while the
    caller goes on) and shut down when the page is done. Its connection file and sockets are in a
    folder of its own, readable by this user only: jupyter_client would otherwise name the sockets
    kernel-ipc-1… in the current folder, where two builds at once pick the same names and talk to
    each other's kernels."""
    # Imported here, when a page needs executing, as papermill is (_execute).
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    with tempfile.TemporaryDirectory(prefix="topic-report-kernel-") as private:
        kernel = AsyncKernelManager(kernel_name=KERNEL, transport="ipc", ip=os.path.join(private, "kernel"),
                                    connection_file=os.path.join(private, "kernel.json"))
        run_sync(kernel.start_kernel)(extra_arguments=KERNEL_ARGUMENTS, cwd=str(cwd))
        try:
            yield kernel
        finally:
            run_sync(kernel.shutdown_kernel)(now=True)


def _execute(topic: Topic, target: Path, parameters: dict, kernel) -> None:
    """Execute the topic's page into `target` with papermill, on `kernel` (_started_kernel)."""
    # Imported here, when a page needs executing: nbformat's schema validation alone costs
    # seconds to import (jsonschema's URI grammar), most of a build where nothing changed.
    import nbformat
    import papermill

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    next(cell for cell in notebook.cells if cell.get("id") == "front-matter").source = front_matter(topic.name)
    papermill.execute_notebook(
        notebook, str(target), parameters=parameters, kernel_name=KERNEL, progress_bar=False,
        request_save_on_cell_execute=False, cwd=str(target.parent), km=kernel,
        execution_timeout=CELL_TIMEOUT_SECONDS, iopub_timeout=OUTPUT_TIMEOUT_SECONDS)


def _one_line(exc: Exception) -> str:
    # Loaded already when _execute raised; here, only if the kernel's start or the data failed first.
    from papermill.exceptions import PapermillExecutionError

    name, message = ((exc.ename, exc.evalue) if isinstance(exc, PapermillExecutionError)
                     else (type(exc).__name__, str(exc)))
    first = first_line(message)
    return f"{name}: {first}" if first else name


