"""One line, not a traceback, when papermill's command runs a notebook into an expected failure.

A notebook stopped by a TopicReportError (a wrong parameter, an unknown topic) shows that one line
in Jupyter (TopicReportError._render_traceback_), but papermill's command re-raises it as its own
exception and Python prints a traceback of papermill's internals around it. papermill offers no
hook into its command line's errors; it does load its plugins when it starts, so this module is
registered as one (an engine, pyproject.toml) and, in papermill's command only, ends such a run
with the line and exit code 1. Any other error keeps its full traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

from papermill.engines import NBClientEngine
from papermill.exceptions import PapermillExecutionError

from helpers import TopicReportError


class Engine(NBClientEngine):
    """papermill's own engine under another name: registering it is what makes papermill load
    this module."""


def _one_line_for_expected_failures(kind, error, trace, previous=sys.excepthook) -> None:
    if isinstance(error, PapermillExecutionError) and error.ename == TopicReportError.__name__:
        print(f"{error.ename}: {error.evalue}", file=sys.stderr)
    else:
        previous(kind, error, trace)


if Path(sys.argv[0]).name == "papermill":
    sys.excepthook = _one_line_for_expected_failures
