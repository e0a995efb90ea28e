"""Settings read from the environment, validated once, with the documented defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from helpers import TopicReportError

ARXIV_API_URL = "https://export.arxiv.org/api/query"
API_MAX_PAGE_SIZE = 2000
# The API serves at most this many results of one query, whatever the paging.
API_MAX_RESULTS_PER_QUERY = 30_000


@dataclass(frozen=True)
class Settings:
    api_url: str = ARXIV_API_URL
    page_size: int = API_MAX_PAGE_SIZE
    delay_seconds: float = 3.0
    timeout_seconds: float = 30.0
    retries: int = 4
    db_path: Path = Path("data/papers.sqlite")


def _number(name: str, default, kind, minimum):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise TopicReportError(f"{name}={raw!r} is not a {kind.__name__}") from None
    if value < minimum:
        raise TopicReportError(f"{name}={raw!r} must be at least {minimum}")
    return value


def from_env() -> Settings:
    """Settings from the environment; unset or empty variables take the defaults above."""
    page_size = _number("ARXIV_PAGE_SIZE", Settings.page_size, int, 1)
    if page_size > API_MAX_PAGE_SIZE:
        raise TopicReportError(f"ARXIV_PAGE_SIZE={page_size} exceeds the API's maximum of {API_MAX_PAGE_SIZE}")
    return Settings(
        api_url=os.environ.get("ARXIV_API_URL") or Settings.api_url,
        page_size=page_size,
        delay_seconds=_number("ARXIV_DELAY_SECONDS", Settings.delay_seconds, float, 0.0),
        timeout_seconds=_number("ARXIV_TIMEOUT_SECONDS", Settings.timeout_seconds, float, 0.01),
        retries=_number("ARXIV_RETRIES", Settings.retries, int, 0),
        db_path=Path(os.environ.get("TOPIC_REPORT_DB") or Settings.db_path),
    )
