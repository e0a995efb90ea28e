"""topic-report: a research radar for arXiv (topics → arXiv → store → digest and report site)."""

PROG = "topic-report"


class TopicReportError(Exception):
    """An expected failure with a one-line message meant for the user (no traceback)."""
