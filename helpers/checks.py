"""The kinds of value a person types as a parameter (the report notebook's, explore's), one rule
each, checked by pydantic; `WORDS` names each rule in an error message."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints, TypeAdapter, ValidationError

from topic_report import TopicReportError


def _iso_day(value):
    """A date, a datetime (its day) or a text YYYY-MM-DD; anything else fails."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("not a text")
    return date.fromisoformat(value)


def _iso_moment(value):
    """A datetime or an ISO 8601 text; anything else fails (no numbers read as timestamps)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("not a text")
    return datetime.fromisoformat(value)


def _file_path(value):
    if not isinstance(value, (str, Path)) or not str(value):
        raise ValueError("not a file path")
    return Path(value)


Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
Count = Annotated[int, Strict(), Field(ge=1)]  # strict: True and 2.5 are not counts
Day = Annotated[date, BeforeValidator(_iso_day)]
# A time without a zone is read as UTC, as the build writes them.
Moment = Annotated[datetime, BeforeValidator(_iso_moment),
                   AfterValidator(lambda moment: moment if moment.tzinfo else moment.replace(tzinfo=UTC))]
FilePath = Annotated[Path, BeforeValidator(_file_path)]

WORDS = {Text: "a non-empty text", Count: "a whole number of at least 1", Day: "a date YYYY-MM-DD",
         Moment: "an ISO 8601 time", FilePath: "a file path"}


@cache
def _adapter(kind) -> TypeAdapter:
    return TypeAdapter(kind)


def checked(kind, value, name: str):
    """`value` as one of the kinds above, or a TopicReportError: "<name> must be <its words>, not <value>"."""
    try:
        return _adapter(kind).validate_python(value)
    except ValidationError:
        raise TopicReportError(f"{name} must be {WORDS[kind]}, not {value!r}") from None
