"""topic-report: a research radar for arXiv (topics → arXiv → store → digest and report site)."""

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


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write `content` (text as UTF-8) into a new file beside `path` that then replaces it: a
    process killed while writing leaves the previous file whole."""
    import os
    import tempfile

    with tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix,
                                     delete=False) as new:
        new.write(content.encode("utf-8") if isinstance(content, str) else content)
        new.flush()
        os.fsync(new.fileno())
    os.replace(new.name, path)
