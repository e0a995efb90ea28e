"""Rebuild cost: the site of the project's topics (offline, from the shipped sample) built once,
again with nothing changed, with one topic changed, and with two changed (a daily run where only
some topics got papers: the index and those pages), on each renderer present (nbconvert always,
Quarto where `quarto` is on the PATH).

    python bench/rebuild.py

Prints a markdown table: the whole build and its rendering step, the pages rendered, and with
Quarto how many times the build started it (one per build: `quarto render` of the project, or
of the changed files as inputs of one command).
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from topic_report import build as build_module  # noqa: E402
from topic_report import site
from topic_report.settings import Settings  # noqa: E402
from topic_report.topics import load_topics  # noqa: E402


def measure(work: Path, renderer: str) -> list[tuple[str, str]]:
    topics = load_topics(ROOT / "topics.yml")
    settings = Settings(db_path=work / "papers.sqlite")
    render_seconds = []
    real_render_site = site.render_site
    real_run_bounded = site.run_bounded
    starts = []

    def counted_run(*args, **kwargs):
        starts.append(args[0])
        return real_run_bounded(*args, **kwargs)

    def timed_render(*args):
        started = time.monotonic()
        rendering = real_render_site(*args)
        render_seconds.append((time.monotonic() - started, rendering))
        return rendering

    def run(label: str) -> tuple[str, str]:
        starts.clear()
        started = time.monotonic()
        with contextlib.redirect_stdout(io.StringIO()):
            code = build_module.build(topics, settings, work / "_site", work_dir=work / "build", offline=True)
        total = time.monotonic() - started
        assert code == 0, f"{label}: build failed"
        seconds, rendering = render_seconds[-1]
        quarto = f", {len(starts)} Quarto start{'s' if len(starts) != 1 else ''}" if renderer == "Quarto" else ""
        return (f"{renderer}: {label}", f"{total:.1f} s, of it rendering {seconds:.2f} s "
                                        f"({len(rendering.rendered)} of {rendering.pages} pages{quarto})")

    def change(*indexes: int) -> None:
        for index in indexes:
            topics[index] = topics[index].model_copy(update={"digest_limit": topics[index].digest_limit + 1})

    build_module.render_site, site.run_bounded = timed_render, counted_run
    try:
        rows = [run("first build"), run("rebuild, nothing changed")]
        change(0)
        rows.append(run(f"rebuild, one topic changed ({topics[0].name})"))
        change(0, 1)
        rows.append(run("rebuild, two topics changed"))
    finally:
        build_module.render_site, site.run_bounded = real_render_site, real_run_bounded
    return rows


def main() -> None:
    renderers = ["nbconvert"] + (["Quarto"] if site.find_quarto() else [])
    rows = []
    real_find_quarto = site.find_quarto
    for renderer in renderers:
        site.find_quarto = real_find_quarto if renderer == "Quarto" else (lambda: None)
        with tempfile.TemporaryDirectory(prefix="topic-report-rebuild-") as work:
            rows += measure(Path(work), renderer)
    site.find_quarto = real_find_quarto
    print("| measurement | result |\n|---|---|")
    for label, result in rows:
        print(f"| {label} | {result} |")
    if "Quarto" not in renderers:
        print("\n(Quarto is not on the PATH: its rows are measured where it is installed.)")


if __name__ == "__main__":
    main()
