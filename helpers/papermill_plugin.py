"""One line, not a traceback, when papermill's command runs a notebook into an expected failure.

A notebook stopped by a TopicReportError (a wrong parameter, an unknown topic) shows that one line
in Jupyter (TopicReportError._render_traceback_), but papermill's command re-raises it as its own
exception and Python prints a traceback of papermill's internals around it. papermill offers no
hook into its command line's errors; it does load its plugins when it starts, so this module is
registered as one (an engine, pyproject.toml) and ends such a run with the line and exit code 1
when nothing catches the error. Any other error keeps its full traceback.
"""

from __future__ import annotations

import sys

from papermill.engines import NBClientEngine
from papermill.exceptions import PapermillExecutionError

from topic_report import TopicReportError


class Engine(NBClientEngine):
    """papermill's own engine under another name: registering it is what makes papermill load
    this module."""


def _one_line_for_expected_failures(kind, error, trace, previous=sys.excepthook) -> None:
    if isinstance(error, PapermillExecutionError) and error.ename == TopicReportError.__name__:
        print(f"{error.ename}: {error.evalue}", file=sys.stderr)
    else:
        previous(kind, error, trace)


# In any process that loads papermill (its command, `python -m papermill`, a script): only an
# uncaught error reaches the hook, and only an expected failure is shortened.
sys.excepthook = _one_line_for_expected_failures
