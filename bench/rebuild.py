"""Rebuild cost: the site of the project's topics (offline, from the shipped sample) built once,
again with nothing changed, and again with one topic changed, on each renderer present
(nbconvert always, Quarto where `quarto` is on the PATH).

    python bench/rebuild.py

Prints a markdown table: the whole build and its rendering step, and the pages rendered.
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

from topic_report import build as build_module, site  # noqa: E402
from topic_report.settings import Settings  # noqa: E402
from topic_report.topics import load_topics  # noqa: E402


def measure(work: Path, renderer: str) -> list[tuple[str, str]]:
    topics = load_topics(ROOT / "topics.yml")
    settings = Settings(db_path=work / "papers.sqlite")
    render_seconds = []
    real_render_site = site.render_site

    def timed_render(*args):
        started = time.monotonic()
        rendering = real_render_site(*args)
        render_seconds.append((time.monotonic() - started, rendering))
        return rendering

    def run(label: str) -> tuple[str, str]:
        started = time.monotonic()
        with contextlib.redirect_stdout(io.StringIO()):
            code = build_module.build(topics, settings, work / "_site", work_dir=work / "build", offline=True)
        total = time.monotonic() - started
        assert code == 0, f"{label}: build failed"
        seconds, rendering = render_seconds[-1]
        return (f"{renderer}: {label}",
                f"{total:.1f} s, of it rendering {seconds:.2f} s ({len(rendering.rendered)} of {rendering.pages} pages)")

    build_module.render_site = timed_render
    try:
        rows = [run("first build"), run("rebuild, nothing changed")]
        topics[0] = topics[0].model_copy(update={"digest_limit": topics[0].digest_limit + 1})
        rows.append(run(f"rebuild, one topic changed ({topics[0].name})"))
    finally:
        build_module.render_site = real_render_site
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
