"""topic-report: a research radar for arXiv (topics → arXiv → store → digest and report site)."""

from pathlib import Path

PROG = "topic-report"
# The checkout (or install) the package lives in: notebooks, topics.yml, samples are found from here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class TopicReportError(Exception):
    """An expected failure with a one-line message meant for the user (no traceback)."""
