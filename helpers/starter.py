"""`topic-report init DIR`: a starter project that builds at once, offline too.

The topics are the shipped topics.yml's, the topics the shipped samples cover, so a first
`topic-report build --offline` already has three pages; `_quarto.yml` holds the site's title, laid
over the shipped settings (helpers/site.py's base_config).
"""

from __future__ import annotations

import json
from pathlib import Path

from topic_report import PROG, RESOURCES, TopicReportError
from topic_report.project import OUTPUT_DIR, QUARTO_CONFIG
from topic_report.settings import Settings
from topic_report.site import base_config
from topic_report.topics import DEFAULT_CONFIG

README = f"""\
# arXiv topic report

A {PROG} project: the research topics in `{DEFAULT_CONFIG}`, their papers fetched from arXiv
into `{Settings.db_path}`, and the report site built into `{OUTPUT_DIR}/`.

```sh
{PROG} build             # fetch every topic, execute its page, render the site into {OUTPUT_DIR}/
{PROG} build --offline   # no arXiv: the stored papers (on a first run, the shipped samples)
python -m http.server --directory {OUTPUT_DIR} --bind 127.0.0.1 8000   # then open http://127.0.0.1:8000
```

Run the commands here or in any folder below: `{PROG}` uses the nearest `{DEFAULT_CONFIG}` above
the current folder, and keeps the store, the site and its working files (`build/`) next to it.
From elsewhere, name the file: `{PROG} build --config path/to/{DEFAULT_CONFIG}`.

- `{DEFAULT_CONFIG}`: the topics (name, slug, terms and categories or an arXiv query, exclude,
  window_days, lookback_days, max_results, digest_limit); see its comments.
- `_quarto.yml`: the site's title, theme and page settings, laid over those {PROG} ships (Quarto
  uses them all; without Quarto, the fallback renderer uses the title).
"""


def _quarto_yml() -> str:
    return f"""\
# The site's Quarto settings, laid over those {PROG} ships (theme, styles, page layout): set
# here what you change, e.g. `format: html: toc: true`. `{PROG} build` adds the pages and navbar.
website:
  title: {json.dumps(base_config()["website"]["title"])}
"""


GITIGNORE = f"""\
# Made by `{PROG} build`: the store, the site and its working files.
{Settings.db_path}*
build/
{OUTPUT_DIR}/
.quarto/
"""


def init(folder: Path) -> list[Path]:
    """Write the starter project into `folder` (created if needed); never overwrite a file."""
    files = {
        folder / DEFAULT_CONFIG: (RESOURCES / DEFAULT_CONFIG).read_text(encoding="utf-8"),
        folder / QUARTO_CONFIG: _quarto_yml(),
        folder / "README.md": README,
        folder / ".gitignore": GITIGNORE,
    }
    if folder.exists() and not folder.is_dir():
        raise TopicReportError(f"{folder} is not a folder")
    existing = [path.name for path in files if path.exists()]
    if existing:
        raise TopicReportError(f"{folder} already has {', '.join(existing)}: {PROG} init writes a new project "
                               f"and overwrites nothing")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            with path.open("x", encoding="utf-8") as file:  # "x": never overwrite
                file.write(text)
    except OSError as exc:
        raise TopicReportError(f"cannot write the project into {folder}: {exc.strerror or exc}") from None
    return list(files)
