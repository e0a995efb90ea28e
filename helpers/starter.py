"""`topic-report init DIR`: a starter project that builds at once, offline too.

The topics are the shipped topics.yml's, the topics the shipped samples cover, so a first
`topic-report build --offline` already has three pages; `_quarto.yml` holds the site's title, laid
over the shipped settings (helpers/site.py's base_config); `.github/workflows/report.yml` is the
shipped daily workflow, installing this version of topic-report instead of the checkout.
"""

from __future__ import annotations

import json
import subprocess
from importlib import metadata
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

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
- `.github/workflows/report.yml`: on GitHub, builds the site every day, delivers what is new by
  mail or webhook (`notify:` in `{DEFAULT_CONFIG}`), publishes the site on GitHub Pages (Settings →
  Pages → Source: GitHub Actions) and keeps the store on the branch `data` (delete it to start over).
  Without GitHub, the same every morning from cron: `17 6 * * * cd /path/to/this/folder && {PROG} build`.
"""


def _quarto_yml() -> str:
    return f"""\
# The site's Quarto settings, laid over those {PROG} ships (theme, styles, page layout): set
# here what you change, e.g. `format: html: toc: true`. `{PROG} build` adds the pages and navbar.
website:
  title: {json.dumps(base_config()["website"]["title"])}
"""


WORKFLOW = Path(".github") / "workflows" / "report.yml"
# The shipped workflow installs the checkout it runs in; a project of its own installs topic-report.
CHECKOUT_INSTALL = "run: python -m pip install ."


def requirement(direct_url: dict | None, checkout_origin: str | None = None, checkout_commit: str | None = None) -> str:
    """What the project's workflow installs: this topic-report as CI can reach it. `direct_url` is
    the install's PEP 610 record (None: installed from an index); a local checkout is named by its
    git remote `origin` and commit when they are http(s); otherwise the version, from an index."""
    url = (direct_url or {}).get("url", "")
    if "vcs_info" in (direct_url or {}):
        vcs = direct_url["vcs_info"]
        return f"{PROG} @ {vcs['vcs']}+{url}@{vcs.get('commit_id') or vcs.get('requested_revision') or 'HEAD'}"
    if url.startswith(("https://", "http://")):
        return f"{PROG} @ {url}"
    if checkout_origin and checkout_origin.startswith(("https://", "http://")) and checkout_commit:
        return f"{PROG} @ git+{checkout_origin}@{checkout_commit}"
    return f"{PROG}=={version(PROG)}"


def _installed_requirement() -> str:
    distribution = metadata.distribution(PROG)
    direct_url = json.loads(distribution.read_text("direct_url.json") or "null")
    origin = commit = None
    local = urlsplit((direct_url or {}).get("url", ""))
    if local.scheme == "file":
        def git(*args: str) -> str | None:
            done = subprocess.run(["git", "-C", url2pathname(local.path), *args], capture_output=True, text=True)
            return done.stdout.strip() if done.returncode == 0 else None
        try:
            origin, commit = git("config", "--get", "remote.origin.url"), git("rev-parse", "HEAD")
        except OSError:  # no git
            pass
    return requirement(direct_url, origin, commit)


def _workflow(install: str) -> str:
    shipped = (RESOURCES / WORKFLOW).read_text(encoding="utf-8")
    if CHECKOUT_INSTALL not in shipped:
        raise TopicReportError(f"the shipped {WORKFLOW} has no line {CHECKOUT_INSTALL!r} to adapt")
    return shipped.replace(CHECKOUT_INSTALL, f'run: python -m pip install "{install}"')


GITIGNORE = f"""\
# Made by `{PROG} build`: the store, the site and its working files.
{Settings.db_path}*
build/
{OUTPUT_DIR}/
.quarto/
"""


def init(folder: Path) -> tuple[list[Path], str]:
    """Write the starter project into `folder` (created if needed); never overwrite a file. Returns
    the files written and what its workflow installs."""
    install = _installed_requirement()
    files = {
        folder / DEFAULT_CONFIG: (RESOURCES / DEFAULT_CONFIG).read_text(encoding="utf-8"),
        folder / QUARTO_CONFIG: _quarto_yml(),
        folder / "README.md": README,
        folder / ".gitignore": GITIGNORE,
        folder / WORKFLOW: _workflow(install),
    }
    if folder.exists() and not folder.is_dir():
        raise TopicReportError(f"{folder} is not a folder")
    existing = [str(path.relative_to(folder)) for path in files if path.exists()]
    if existing:
        raise TopicReportError(f"{folder} already has {', '.join(existing)}: {PROG} init writes a new project "
                               f"and overwrites nothing")
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as file:  # "x": never overwrite
                file.write(text)
    except OSError as exc:
        raise TopicReportError(f"cannot write the project into {folder}: {exc.strerror or exc}") from None
    return list(files), install
