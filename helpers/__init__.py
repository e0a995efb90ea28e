"""topic-report: a research radar for arXiv (topics → arXiv → store → digest and report site)."""

from collections.abc import Iterable
from pathlib import Path

PROG = "topic-report"
PACKAGE_DIR = Path(__file__).resolve().parent
# The shipped files: notebooks/ (the report and the site templates), data/sample/, _quarto.yml and
# the starter topics.yml. A checkout (or an editable install) uses its own; an installed wheel
# carries copies in helpers/resources/, in the same layout (see pyproject.toml).
_WHEEL_RESOURCES = PACKAGE_DIR / "resources"
RESOURCES = _WHEEL_RESOURCES if _WHEEL_RESOURCES.is_dir() else PACKAGE_DIR.parent
SITE_DIR = RESOURCES / "notebooks" / "site"  # the site's templates, styles and post-render step


class TopicReportError(Exception):
    """An expected failure with a one-line message meant for the user (no traceback)."""

    def _render_traceback_(self) -> list[str]:
        """What IPython (Jupyter, papermill's notebooks) shows instead of a traceback: the one line."""
        return [f"{type(self).__name__}: {self}"]


def write_atomically(path: Path, content: str | bytes | Iterable[str | bytes]) -> None:
    """Write `content` (text as UTF-8; or its pieces, one at a time, so that it is never whole in
    memory) into a new file beside `path` that then replaces it: a process killed while writing
    leaves the previous file whole."""
    import os
    import tempfile

    with tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix,
                                     delete=False) as new:
        for piece in [content] if isinstance(content, (str, bytes)) else content:
            new.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
        new.flush()
        os.fsync(new.fileno())
    os.replace(new.name, path)


def first_line(text: str) -> str:
    """The first line of a message that may run on (a validation error, a library's report)."""
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def read_state(path: Path, model, consequence: str, upgrade=lambda data: data):
    """A state file of build/ (JSON) as the pydantic `model`, or None when there is none; a damaged
    one is discarded with one warning line saying `consequence`, so the build heals it."""
    import json
    import sys

    if not path.exists():
        return None
    try:
        return model.model_validate(upgrade(json.loads(path.read_bytes())))
    except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError, ValidationError
        print(f"{PROG}: warning: {path} is damaged ({first_line(str(exc))}); discarded: {consequence}",
              file=sys.stderr, flush=True)
        return None
