"""Page weight and time to an interactive table, in Chromium, for topic pages of 10, 100, 10,350
and 50,000 papers built from the real corpora of ../shared/corpora (issue 18's targets: a 10-paper
page at most 150 KB gzip at first load; the 10,350-paper page at most 1.5 MB, interactive within
1.5 s; a 50,000-paper topic that works, with the same code):

- 10 and 100: the first papers of the 3D corpus under the real "3D Reconstruction" topic;
- 10,350: both corpora under one topic;
- 50,000: both corpora again and again, each copy under new ids (an arXiv id of its own per paper),
  so the text is real and every paper distinct.

    python bench/page_size.py [--keep DIR] [--only 10,100,10350,50000]

The papers are stored directly (with the terms each matched) and the page is built offline by the
real build (papermill + the nbconvert renderer, or Quarto where installed). The page is then served
on the loopback and opened in headless Chromium, every other host unresolvable (Chromium's own
host rules: intercepting each request in Playwright would add its round trips to every file's
time), `LOADS` times, each in a fresh context (nothing cached). First load: the files the page
asked for until its table was interactive (the page, the shared library, the table's script and
styles), their sizes raw and gzip-compressed (the server's answers are read from the served
files); time to interactive: from navigation start until the table shows its first rows and its
count of entries, with its parts: the page's response complete and the page parsed (the table's
script starts then), and the CPU time of the page's main thread until then (Chromium's
`Performance.getMetrics`: the machine's load changes it far less than the wall time). Then the search: typing a word found in one abstract only (never in the
page's own data), timed until the table shows that paper, which includes fetching the details file
the first time; then a sort by score (highest first) and the category filter, checked to work.
Prints one line per page, with the load average (the machine is shared: wall times follow it).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gzip
import json
import os
import re
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
from topic_report.taxonomy import category_name  # noqa: E402
from topic_report.topics import Topic, load_topics  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
ALL_CORPORA = ("daily-mixed-2026-06.jsonl", "3d-reconstruction-real.jsonl")
CHROMIUM = "/usr/bin/chromium"
LOADS = 3  # cold loads of each page, for time to interactive
# Only the loopback resolves: a request for any other host fails (and is counted).
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
MB = 1_000_000


KB = 1_000


@dataclass(frozen=True)
class Case:
    label: str
    topic: Topic
    papers: int                   # how many papers, taken from (or repeated over) `corpora`
    corpora: tuple[str, ...]
    limit_gzip_bytes: int | None  # the first load's limit, if any


def cases() -> list[Case]:
    reconstruction = next(t for t in load_topics(ROOT / "topics.yml") if t.slug == "3d-reconstruction")
    everything = reconstruction.model_copy(update={"name": "Benchmark: every paper", "slug": "benchmark"})
    return [Case("10", reconstruction, 10, ("3d-reconstruction-real.jsonl",), 150 * KB),
            Case("100", reconstruction, 100, ("3d-reconstruction-real.jsonl",), None),
            Case("10350", everything, 10_350, ALL_CORPORA, 1_500 * KB),
            Case("50000", everything, 50_000, ALL_CORPORA, None)]


def paper_from_record(record: dict) -> Paper:
    """A corpus record (schema: ../shared/corpora/README.md) as a stored paper."""
    return Paper(
        id=record["id"], version=record["version"], title=record["title"], abstract=record["abstract"],
        authors=record["authors"], published=datetime.fromisoformat(record["published"]),
        updated=datetime.fromisoformat(record["updated"]), primary_category=record["primary_category"],
        categories=record["categories"], comment=record.get("comment"),
    )


def load_corpora(names: tuple[str, ...], count: int | None = None) -> list[Paper]:
    """The corpora's papers (the first `count`); beyond their number, copies under new ids."""
    papers = []
    for name in names:
        with open(CORPORA / name, encoding="utf-8") as lines:
            papers.extend(paper_from_record(json.loads(line)) for line in lines)
    if count is None:
        return papers
    copies = [dataclasses.replace(paper, id=f"{9000 + n // 100_000}.{n % 100_000:05d}")
              for n, paper in enumerate(papers[n % len(papers)] for n in range(len(papers), count))]
    return (papers + copies)[:count]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


def gzip_size(body: bytes) -> int:
    return len(gzip.compress(body, 6))


# The table is interactive: DataTables has drawn its first rows and says how many entries it holds.
TABLE_READY = "document.querySelector('#papers tbody tr') && document.querySelector('.dt-info')?.innerText"
TIMING = """() => {
    const navigation = performance.getEntriesByType('navigation')[0];
    return {response_ms: navigation.responseEnd, parsed_ms: navigation.domInteractive, interactive_ms: performance.now()};
}"""


def in_chromium(site: Path, page_name: str, word: str | None, expected: int = 1) -> dict:
    """Open the page served from `site` in Chromium: what its first load asks for (raw and gzip),
    time to interactive (`LOADS` cold loads); with a `word` (found in the abstracts of `expected`
    papers only), the search for it, a sort by score and the category filter (a table of a page or
    less needs none of them)."""
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    requested: list[str] = []  # by the current load
    everywhere: list[str] = []  # by every load, the search and the filters
    seen: dict = {"loads": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--no-sandbox", "--disable-gpu", LOOPBACK_ONLY])
            for load in range(LOADS):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                requested.clear()
                page.on("request", lambda request: (requested.append(request.url), everywhere.append(request.url)))
                devtools = context.new_cdp_session(page)
                devtools.send("Performance.enable")
                page.goto(base + page_name, wait_until="commit")
                page.wait_for_function(TABLE_READY, timeout=300_000, polling=10)
                # CPU time, which the machine's load changes far less than wall time: the page's main thread.
                metrics = {metric["name"]: metric["value"] for metric in devtools.send("Performance.getMetrics")["metrics"]}
                seen["loads"].append({**page.evaluate(TIMING), "main_thread_cpu_ms": metrics["ThreadTime"] * 1000})
                first_load = list(dict.fromkeys(requested))
                if load < LOADS - 1:
                    context.close()
            page.wait_for_load_state("load")
            if word:
                page.evaluate("""word => {
                    window.searchStarted = performance.now();
                    const input = document.querySelector('.dt-search input');
                    input.value = word;
                    input.dispatchEvent(new Event('input', {bubbles: true}));
                }""", word)
                page.wait_for_function("""expected => document.querySelectorAll('#papers tbody tr').length === expected
                    && !document.querySelector('#papers_processing[style*=block]')""", arg=expected, polling=5,
                    timeout=120_000)
                seen["search_ms"] = page.evaluate("performance.now() - window.searchStarted")
                page.fill(".dt-search input", "")
                page.locator("#papers thead th", has_text="Score").locator(".dt-column-title").click()
                page.locator("#papers thead th.dt-ordering-desc", has_text="Score").wait_for()
                scores = [float(text) for text in page.locator("#papers tbody tr td:nth-child(5)").all_inner_texts()]
                seen["sorted"] = scores == sorted(scores, reverse=True) and len(scores) == 25
                before = page.locator(".dt-info").inner_text()
                page.select_option("#papers-category", index=2)
                page.wait_for_function("text => document.querySelector('.dt-info').innerText !== text", arg=before)
                seen["filtered"] = page.locator(".dt-info").inner_text()
            browser.close()
    finally:
        server.shutdown()

    def weight(urls: list[str]) -> tuple[int, int, int]:
        # Read from the served files (Chromium may drop large bodies from memory).
        files = [site / url[len(base):].split("?")[0] for url in urls if url.startswith(base)]
        bodies = [path.read_bytes() for path in files if path.is_file()]
        return len(bodies), sum(map(len, bodies)), sum(map(gzip_size, bodies))

    page_body = (site / page_name).read_bytes()
    details = site / page_name.replace(".html", ".details.json")
    details_body = details.read_bytes() if details.is_file() else b""
    files, raw, compressed = weight(first_load)
    return {**seen, "files": files, "raw": raw, "gzip": compressed, "page_raw": len(page_body),
            "page_gzip": gzip_size(page_body), "details_raw": len(details_body), "details_gzip": gzip_size(details_body),
            "details_at_first_load": any(".details.json" in url for url in first_load),
            "elsewhere": [url for url in everywhere if not url.startswith(base)]}


def time_range(loads: list[dict], part: str) -> str:
    """One part of the loads' timings, in seconds: the range over the loads."""
    times = sorted(load[part] / 1000 for load in loads)
    return f"{times[0]:.2f}" if times[0] == times[-1] else f"{times[0]:.2f}–{times[-1]:.2f}"


def abstract_word(papers: list[Paper]) -> tuple[str, int]:
    """A word that abstracts hold and no title, author or category name: the search for it finds
    those papers only once the details have arrived. Of an old paper (not on the first screen), found
    in at most a page of papers (the 50,000 repeat each abstract). Returns the word and how many
    papers hold it, as the table's search matches: anywhere in the text, whatever the case."""
    others = "\n".join(f"{paper.title} {' '.join(paper.authors)} {paper.id}" for paper in papers).lower()
    abstracts = "\n".join(paper.abstract for paper in papers).lower()
    names = " ".join(filter(None, map(category_name, {code for paper in papers for code in paper.categories}))).lower()
    for paper in reversed(papers):
        for word in sorted(set(re.findall(r"[a-z]{9,}", paper.abstract.lower()))):
            if word not in others and word not in names and abstracts.count(word) <= 25:
                holding = len({p.id for p in papers if word in p.abstract.lower()})  # the corpora share some papers
                if holding <= 25:
                    return word, holding
    raise SystemExit("no word of a few abstracts only")


def measure(case: Case, work: Path) -> bool:
    settings = Settings(db_path=work / "papers.sqlite")
    papers = load_corpora(case.corpora, case.papers)
    with Store(settings.db_path) as store:
        counts = store.save_fetch(case.topic.slug, papers, started_at=utc_now(), requests=1, record=FetchRecord(
            kind="window", since=min(p.published for p in papers), until=utc_now(),
            matched_terms=case.topic.terms_matched(papers)))
    started = time.monotonic()
    code = build([case.topic], settings, work / "_site", work_dir=work / "build", offline=True)
    seconds = time.monotonic() - started
    if code:
        raise SystemExit(f"build failed (exit {code})")
    word, holding = abstract_word(papers) if len(papers) > 25 else (None, 0)
    seen = in_chromium(work / "_site", f"{case.topic.slug}.html", word, holding)
    within = case.limit_gzip_bytes is None or seen["gzip"] <= case.limit_gzip_bytes
    works = word is None or (seen["sorted"] and "filtered from" in seen["filtered"])
    limit = f" (limit {case.limit_gzip_bytes / MB:.2f} MB{'' if within else ', EXCEEDED'})" if case.limit_gzip_bytes else ""
    search = (f"; search for a word of {holding} abstract(s) only ({word!r}) {seen['search_ms']:.0f} ms, details fetched then; "
              f"sort by score {'works' if seen['sorted'] else 'FAILED'}; category filter: {seen['filtered']}") if word else ""
    print(f"{counts.new:,} papers: built in {seconds:.1f} s; first load {seen['files']} files, "
          f"{seen['raw'] / MB:.3f} MB, {seen['gzip'] / MB:.3f} MB gzip{limit}; the page alone {seen['page_raw'] / MB:.3f} MB, "
          f"{seen['page_gzip'] / MB:.3f} MB gzip; details file {seen['details_raw'] / MB:.2f} MB, "
          f"{seen['details_gzip'] / MB:.2f} MB gzip ({'in' if seen['details_at_first_load'] else 'not in'} the first load); "
          f"table interactive after {time_range(seen['loads'], 'interactive_ms')} s ({LOADS} cold loads; response complete "
          f"{time_range(seen['loads'], 'response_ms')} s, page parsed {time_range(seen['loads'], 'parsed_ms')} s; "
          f"the page's main thread {time_range(seen['loads'], 'main_thread_cpu_ms')} s CPU){search}; "
          f"load average {os.getloadavg()[0]:.1f}"
          + (f"; REQUESTED ELSEWHERE: {seen['elsewhere']}" if seen["elsewhere"] else ""), flush=True)
    return within and works and not seen["details_at_first_load"] and not seen["elsewhere"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR and keep it (default: a temporary dir)")
    parser.add_argument("--only", help="the cases to run, by papers: 10,100,10350,50000 (default: all)")
    args = parser.parse_args()
    results = []
    for case in cases():
        if args.only and case.label not in args.only.split(","):
            continue
        if args.keep:
            (args.keep / case.label).mkdir(parents=True, exist_ok=True)
            results.append(measure(case, args.keep / case.label))
        else:
            with tempfile.TemporaryDirectory() as work:
                results.append(measure(case, Path(work)))
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
