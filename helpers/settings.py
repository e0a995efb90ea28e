"""Settings read from the environment, validated once, with the documented defaults."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from topic_report import TopicReportError

ARXIV_API_URL = "https://export.arxiv.org/api/query"
# arXiv's daily listing (a run asks for `<ARXIV_RSS_URL>/<cat>+<cat>`) and its OAI-PMH interface.
ARXIV_RSS_URL = "https://rss.arxiv.org/rss"
ARXIV_OAI_URL = "https://oaipmh.arxiv.org/oai"
API_MAX_PAGE_SIZE = 2000
# The API serves at most this many results of one query, whatever the paging.
API_MAX_RESULTS_PER_QUERY = 30_000
# Longer than anyone means to wait between or for requests; beyond it, timers overflow.
MAX_SECONDS = 86_400


@dataclass(frozen=True)
class Settings:
    api_url: str = ARXIV_API_URL
    rss_url: str = ARXIV_RSS_URL
    oai_url: str = ARXIV_OAI_URL
    page_size: int = API_MAX_PAGE_SIZE
    delay_seconds: float = 3.0
    timeout_seconds: float = 60.0
    retries: int = 4
    # A 2,000-entry page of arXiv weighs a few MB; a response past this (decompressed) is refused.
    max_response_mb: float = 64.0
    db_path: Path = Path("data/papers.sqlite")
    site_url: str | None = None  # where the site is published; makes the feeds' links absolute
    # Bounds of one `quarto render` (its whole process tree): a correct render of the site stays far below.
    render_memory_mb: float = 8192.0
    render_seconds: float = 3600.0
    # Delivery (helpers/delivery.py): seconds one try may take (connect, each answer), and tries after the first.
    delivery_timeout_seconds: float = 30.0
    delivery_retries: int = 2


def _number(name: str, default, kind, minimum, maximum=None):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise TopicReportError(f"{name}={raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if not math.isfinite(value):
        raise TopicReportError(f"{name}={raw!r} is not a finite number")
    if value < minimum:
        raise TopicReportError(f"{name}={raw!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise TopicReportError(f"{name}={raw!r} must be at most {maximum}")
    return value


def _endpoint(name: str, default: str) -> str:
    """An http(s) URL from the variable `name` that the client can append a path or `?query` to:
    no query, fragment, braces or spaces of its own."""
    raw = os.environ.get(name) or default
    example = f"an http(s) URL without query string, like {default}"
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        raise TopicReportError(f"{name}={raw!r} is not {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TopicReportError(f"{name}={raw!r} is not {example}")
    if parts.query or parts.fragment or "?" in raw or "#" in raw:
        raise TopicReportError(f"{name}={raw!r} has a query string or fragment; give {example}")
    if any(char in raw for char in "{} \t\r\n"):
        raise TopicReportError(f"{name}={raw!r} has braces or spaces; give {example}")
    return raw


def _site_url() -> str | None:
    """Where the site is published, ending in "/" so pages resolve beneath it."""
    raw = os.environ.get("TOPIC_REPORT_SITE_URL")
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        parts = None
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname or any(c in raw for c in " \t\r\n"):
        raise TopicReportError(f"TOPIC_REPORT_SITE_URL={raw!r} is not an http(s) address like https://example.org/radar/")
    return raw if raw.endswith("/") else raw + "/"


def from_env() -> Settings:
    """Settings from the environment; unset or empty variables take the defaults above."""
    page_size = _number("ARXIV_PAGE_SIZE", Settings.page_size, int, 1)
    if page_size > API_MAX_PAGE_SIZE:
        raise TopicReportError(f"ARXIV_PAGE_SIZE={page_size} exceeds the API's maximum of {API_MAX_PAGE_SIZE}")
    return Settings(
        api_url=_endpoint("ARXIV_API_URL", ARXIV_API_URL),
        rss_url=_endpoint("ARXIV_RSS_URL", ARXIV_RSS_URL).rstrip("/"),
        oai_url=_endpoint("ARXIV_OAI_URL", ARXIV_OAI_URL),
        page_size=page_size,
        delay_seconds=_number("ARXIV_DELAY_SECONDS", Settings.delay_seconds, float, 0.0, MAX_SECONDS),
        timeout_seconds=_number("ARXIV_TIMEOUT_SECONDS", Settings.timeout_seconds, float, 0.01, MAX_SECONDS),
        retries=_number("ARXIV_RETRIES", Settings.retries, int, 0, 100),
        max_response_mb=_number("ARXIV_MAX_RESPONSE_MB", Settings.max_response_mb, float, 0.01, 100_000),
        db_path=Path(os.environ.get("TOPIC_REPORT_DB") or Settings.db_path),
        site_url=_site_url(),
        render_memory_mb=_number("TOPIC_REPORT_RENDER_MEMORY_MB", Settings.render_memory_mb, float, 1.0, 10**7),
        render_seconds=_number("TOPIC_REPORT_RENDER_SECONDS", Settings.render_seconds, float, 1.0, MAX_SECONDS),
        delivery_timeout_seconds=_number("TOPIC_REPORT_DELIVERY_TIMEOUT_SECONDS", Settings.delivery_timeout_seconds,
                                         float, 0.01, MAX_SECONDS),
        delivery_retries=_number("TOPIC_REPORT_DELIVERY_RETRIES", Settings.delivery_retries, int, 0, 10),
    )
