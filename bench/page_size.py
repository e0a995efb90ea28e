"""Page weight and time to an interactive table, in Chromium, for two large topic pages built from
the real corpora of ../shared/corpora:

- all 10,350 papers (June 2026 daily listings and 3D reconstruction 2023-2026) under one topic:
  at most 6 MB gzip-compressed, everything the page loads included;
- the 3,890 papers of the 3D corpus under the real "3D Reconstruction" topic: at most 3 MB.

    python bench/page_size.py [--keep DIR]

The papers are stored directly (with the terms each matched) and the page is built offline by the
real build (papermill + the nbconvert renderer, or Quarto where installed). The page is then served
on the loopback and opened in headless Chromium with every other host blocked: the weight is the
sum of the gzip-compressed bodies of every response the page loads; the time to interactive runs
from navigation start until DataTables has built the table, and the search time from typing a
sixth author's name until the table shows only that author's papers. Prints one line per page.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from topic_report.build import build  # noqa: E402
from topic_report.settings import Settings  # noqa: E402
from topic_report.store import FetchRecord, Paper, Store, utc_now  # noqa: E402
from topic_report.topics import Topic, load_topics  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
ALL_CORPORA = ("daily-mixed-2026-06.jsonl", "3d-reconstruction-real.jsonl")
CHROMIUM = "/usr/bin/chromium"
MB = 1_000_000


@dataclass(frozen=True)
class Case:
    topic: Topic
    corpora: tuple[str, ...]
    limit_gzip_bytes: int


def cases() -> list[Case]:
    reconstruction = next(t for t in load_topics(ROOT / "topics.yml") if t.slug == "3d-reconstruction")
    everything = reconstruction.model_copy(update={"name": "Benchmark: ten thousand papers", "slug": "benchmark"})
    return [Case(everything, ALL_CORPORA, 6 * MB),
            Case(reconstruction, ("3d-reconstruction-real.jsonl",), 3 * MB)]


def paper_from_record(record: dict) -> Paper:
    """A corpus record (schema: ../shared/corpora/README.md) as a stored paper."""
    return Paper(
        id=record["id"], version=record["version"], title=record["title"], abstract=record["abstract"],
        authors=record["authors"], published=datetime.fromisoformat(record["published"]),
        updated=datetime.fromisoformat(record["updated"]), primary_category=record["primary_category"],
        categories=record["categories"], comment=record.get("comment"),
    )


def load_corpora(names: tuple[str, ...]) -> list[Paper]:
    papers = []
    for name in names:
        with open(CORPORA / name, encoding="utf-8") as lines:
            papers.extend(paper_from_record(json.loads(line)) for line in lines)
    return papers


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


def in_chromium(site: Path, page_name: str, author: str | None) -> dict:
    """Open the page served from `site` in Chromium: weight of what it loads, time to interactive,
    search time (None without an `author`: a table of a page or less has no search box)."""
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    requested: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                          else route.abort())
            page = context.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(base + page_name)
            page.wait_for_function("document.querySelector('table#papers.dataTable')", timeout=300_000, polling=10)
            interactive_ms = page.evaluate("performance.now()")
            page.wait_for_load_state("load")
            search_ms = author and page.evaluate("""name => new Promise(resolve => {
                const input = document.querySelector('.dt-search input');
                $('#papers').one('draw.dt', () => resolve(performance.now() - started));
                const started = performance.now();
                input.value = name;
                input.dispatchEvent(new Event('input', {bubbles: true}));
            })""", author)
            matches = page.locator("#papers tbody tr").count()
            browser.close()
    finally:
        server.shutdown()
    # What the page loads, read from the served files (Chromium may drop large bodies from memory).
    files = [site / url[len(base):].split("?")[0] for url in dict.fromkeys(requested) if url.startswith(base)]
    bodies = [path.read_bytes() for path in files if path.is_file()]
    return {"raw": sum(map(len, bodies)), "gzip": sum(len(gzip.compress(body, 6)) for body in bodies),
            "page_gzip": len(gzip.compress((site / page_name).read_bytes(), 6)),
            "files": len(bodies), "interactive_ms": interactive_ms, "search_ms": search_ms, "matches": matches}


def measure(case: Case, work: Path) -> bool:
    settings = Settings(db_path=work / "papers.sqlite")
    papers = load_corpora(case.corpora)
    with Store(settings.db_path) as store:
        counts = store.save_fetch(case.topic.slug, papers, started_at=utc_now(), requests=1, record=FetchRecord(
            kind="window", since=min(p.published for p in papers), until=utc_now(),
            matched_terms=case.topic.terms_matched(papers)))
    started = time.monotonic()
    code = build([case.topic], settings, work / "_site", work_dir=work / "build", offline=True)
    seconds = time.monotonic() - started
    if code:
        raise SystemExit(f"build failed (exit {code})")
    sixth = next(p.authors[5] for p in papers if len(p.authors) >= 6)
    seen = in_chromium(work / "_site", f"{case.topic.slug}.html", sixth)
    within = seen["gzip"] <= case.limit_gzip_bytes
    print(f"{case.topic.name}: {counts.new:,} papers; built in {seconds:.1f} s; loads {seen['files']} file(s), "
          f"{seen['raw'] / MB:.2f} MB, {seen['gzip'] / MB:.2f} MB gzip (limit {case.limit_gzip_bytes / MB:.0f} MB"
          f"{'' if within else ', EXCEEDED'}); table interactive after {seen['interactive_ms'] / 1000:.2f} s; "
          f"search by a sixth author {seen['search_ms']:.0f} ms ({seen['matches']} rows shown)", flush=True)
    return within


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR and keep it (default: a temporary dir)")
    args = parser.parse_args()
    results = []
    for case in cases():
        if args.keep:
            (args.keep / case.topic.slug).mkdir(parents=True, exist_ok=True)
            results.append(measure(case, args.keep / case.topic.slug))
        else:
            with tempfile.TemporaryDirectory() as work:
                results.append(measure(case, Path(work)))
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
