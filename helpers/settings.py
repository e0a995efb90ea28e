"""Settings read from the environment, validated once, with the documented defaults."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, ValidationError, ValidationInfo
from pydantic.dataclasses import dataclass

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


def _is_http(url: str) -> bool:
    """Whether the text is an http(s) address with a host (and a well-formed port, if any)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _endpoint(url: str, info: ValidationInfo) -> str:
    """An http(s) URL the client can append a path or `?query` to: no query, fragment, braces or
    spaces of its own."""
    example = f"an http(s) URL without query string, like {_DEFAULTS[info.field_name]}"
    if not _is_http(url):
        raise ValueError(f"is not {example}")
    if "?" in url or "#" in url:  # a query or fragment, empty ones included
        raise ValueError(f"has a query string or fragment; give {example}")
    if any(char in url for char in "{} \t\r\n"):
        raise ValueError(f"has braces or spaces; give {example}")
    return url


def _site_url(url: str | None) -> str | None:
    """Where the site is published, ending in "/" so pages resolve beneath it."""
    if not url:
        return None
    if not _is_http(url) or any(char in url for char in " \t\r\n"):
        raise ValueError("is not an http(s) address like https://example.org/radar/")
    return url if url.endswith("/") else url + "/"


def _page_size(size: int) -> int:
    if size > API_MAX_PAGE_SIZE:
        raise ValueError(f"exceeds the API's maximum of {API_MAX_PAGE_SIZE}")
    return size


Endpoint = Annotated[str, AfterValidator(_endpoint)]
Seconds = Annotated[float, Field(ge=0.01, le=MAX_SECONDS)]


# Validated by pydantic whenever made (from the environment or by hand); `dataclasses.replace` works.
@dataclass(frozen=True, config=ConfigDict(allow_inf_nan=False))
class Settings:
    api_url: Endpoint = ARXIV_API_URL
    rss_url: Annotated[Endpoint, AfterValidator(lambda url: url.rstrip("/"))] = ARXIV_RSS_URL
    oai_url: Endpoint = ARXIV_OAI_URL
    page_size: Annotated[int, Field(ge=1), AfterValidator(_page_size)] = API_MAX_PAGE_SIZE
    delay_seconds: Annotated[float, Field(ge=0.0, le=MAX_SECONDS)] = 3.0
    timeout_seconds: Seconds = 60.0
    retries: Annotated[int, Field(ge=0, le=100)] = 4
    # A 2,000-entry page of arXiv weighs a few MB; a response past this (decompressed) is refused.
    max_response_mb: Annotated[float, Field(ge=0.01, le=100_000)] = 64.0
    db_path: Path = Path("data/papers.sqlite")
    site_url: Annotated[str | None, AfterValidator(_site_url)] = None  # where the site is published; makes the feeds' links absolute
    # Bounds of one `quarto render` (its whole process tree): a correct render of the site stays far below.
    render_memory_mb: Annotated[float, Field(ge=1.0, le=10**7)] = 8192.0
    render_seconds: Annotated[float, Field(ge=1.0, le=MAX_SECONDS)] = 3600.0
    # Delivery (helpers/delivery.py): seconds one try may take (connect, each answer), and tries after the first.
    delivery_timeout_seconds: Seconds = 30.0
    delivery_retries: Annotated[int, Field(ge=0, le=10)] = 2


_DEFAULTS = {field.name: field.default for field in fields(Settings)}
# The variable that sets each setting.
ENVIRONMENT = {
    "api_url": "ARXIV_API_URL", "rss_url": "ARXIV_RSS_URL", "oai_url": "ARXIV_OAI_URL", "page_size": "ARXIV_PAGE_SIZE",
    "delay_seconds": "ARXIV_DELAY_SECONDS", "timeout_seconds": "ARXIV_TIMEOUT_SECONDS", "retries": "ARXIV_RETRIES",
    "max_response_mb": "ARXIV_MAX_RESPONSE_MB", "db_path": "TOPIC_REPORT_DB", "site_url": "TOPIC_REPORT_SITE_URL",
    "render_memory_mb": "TOPIC_REPORT_RENDER_MEMORY_MB", "render_seconds": "TOPIC_REPORT_RENDER_SECONDS",
    "delivery_timeout_seconds": "TOPIC_REPORT_DELIVERY_TIMEOUT_SECONDS",
    "delivery_retries": "TOPIC_REPORT_DELIVERY_RETRIES",
}
# pydantic's error types, in the words of a one-line message.
_PROBLEMS = {"int_parsing": "is not a whole number", "int_from_float": "is not a whole number",
             "float_parsing": "is not a number", "finite_number": "is not a finite number",
             "greater_than_equal": "must be at least {ge}", "less_than_equal": "must be at most {le}"}


def from_env() -> Settings:
    """Settings from the environment; unset or empty variables take the defaults above."""
    given = {field: os.environ[name] for field, name in ENVIRONMENT.items() if os.environ.get(name)}
    try:
        return Settings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = error["loc"][0]
        problem = (str(error["ctx"]["error"]) if error["type"] == "value_error"
                   else _PROBLEMS.get(error["type"], error["msg"]).format(**{
                       bound: int(value) if float(value).is_integer() else value  # 86400, not 86400.0
                       for bound, value in error.get("ctx", {}).items()}))
        raise TopicReportError(f"{ENVIRONMENT[field]}={given[field]!r} {problem}") from None
