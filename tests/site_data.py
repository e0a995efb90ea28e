"""Data and a runner for the report-site tests: hostile metadata, a topics file, `build` in-process."""

from __future__ import annotations

import base64
import io
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import lxml.html
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_TOPIC = "Hostile <i>names</i> & co"
HOSTILE_TITLES = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
HOSTILE_AUTHOR = "$\\alpha$ O'Brien <b>"
HOSTILE_ABSTRACT = "Zebra crossings.</details><script>alert(2)</script> &amp; <b>bold</b>"


def hostile_records() -> list[dict]:
    """Two papers whose metadata tries to inject HTML and mathtext into the page."""
    common = {"version": 1, "published": "2026-02-05T10:00:00Z", "updated": "2026-02-05T10:00:00Z",
              "categories": ["cs.CV", "cs.RO"], "primary_category": "cs.CV",
              "comment": "<script>alert(3)</script>"}
    return [
        {**common, "id": "2602.99001", "title": HOSTILE_TITLES[0], "authors": [HOSTILE_AUTHOR, "Ada Lovelace"],
         "abstract": HOSTILE_ABSTRACT},
        {**common, "id": "2602.99002", "title": HOSTILE_TITLES[1], "authors": [HOSTILE_AUTHOR],
         "abstract": "Zebra crossings again, $x$ and **stars**."},
    ]


def site_topics(path: Path, *slugs: str) -> Path:
    """A topics file with the named topics of: the real 3D Reconstruction topic (from Feb 2026),
    a hostile one and one that matches nothing."""
    real = yaml.safe_load((ROOT / "topics.yml").read_text(encoding="utf-8"))["topics"][0]
    topics = {
        "3d-reconstruction": {**real, "since": "2026-02-01"},
        "hostile": {"name": HOSTILE_TOPIC, "slug": "hostile", "terms": ["zebra crossings"], "since": "2026-02-01"},
        "nothing-yet": {"name": "Nothing Yet", "slug": "nothing-yet", "terms": ["no such phrase anywhere"],
                        "since": "2026-02-01"},
    }
    path.write_text(yaml.safe_dump({"topics": [topics[slug] for slug in slugs]}), encoding="utf-8")
    return path


@dataclass(frozen=True)
class BuildRun:
    code: int
    out: str
    err: str


QUARTO_ABSENT = "quarto is not on PATH: this variant runs where Quarto is installed"
# The renderers every site test runs on: nbconvert always, Quarto where it is installed.
RENDERERS = ["nbconvert", pytest.param("quarto", marks=pytest.mark.quarto)]
RENDERER_NAMES = {"nbconvert": "nbconvert", "quarto": "Quarto"}


def require(renderer: str) -> str:
    """Skip a Quarto variant where Quarto is not installed; returns the renderer."""
    if renderer == "quarto" and not shutil.which("quarto"):
        pytest.skip(QUARTO_ABSENT)
    return renderer


def run_build(environment: dict[str, str], *args: str, renderer: str = "nbconvert") -> BuildRun:
    """`topic-report build ARGS…` in-process, with these environment variables set meanwhile,
    rendered by `renderer`: "nbconvert" (even where Quarto is installed) or "quarto"."""
    from topic_report import site
    from topic_report.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
        for name, value in environment.items():
            patch.setenv(name, value)
        if renderer == "nbconvert":
            patch.setattr(site, "find_quarto", lambda: None)
        code = main(["build", *args])
    return BuildRun(code, out.getvalue(), err.getvalue())


SVG_DATA = re.compile(r"data:image/svg\+xml;base64,(.+)")


def page_images(text: str) -> list[str]:
    """The `src` of every image of a page, in order (lxml: as a browser parses the page)."""
    return [img.get("src", "") for img in lxml.html.fromstring(text).iter("img")]


def charts(output: Path, text: str) -> list[str]:
    """The SVG documents of a page's charts, whichever way they are shipped: inlined as data:
    URIs (nbconvert) or as files beside the page (Quarto)."""
    svgs = []
    for src in page_images(text):
        inlined = SVG_DATA.match(src)
        if inlined:
            svgs.append(base64.b64decode(inlined.group(1)).decode("utf-8"))
        elif src.endswith(".svg") and (output / src).is_file():
            svgs.append((output / src).read_text(encoding="utf-8"))
    return svgs


def nav_targets(text: str) -> list[str]:
    """Where the links of a page's navbar go, as page names (`./x.html` is `x.html`)."""
    navbar = lxml.html.fromstring(text).xpath("//nav")[0]
    return [link.get("href").removeprefix("./") for link in navbar.iter("a") if link.get("href", "").endswith(".html")]
