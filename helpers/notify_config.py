"""The `notify:` section of topics.yml: who gets what after a build (helpers/delivery.py sends it).

```yaml
notify:
  email:                       # one recipient list, or a list of them
    smtp_host: smtp.example.org
    smtp_port: 587             # default: 587 for starttls, 465 for tls, 25 for none
    security: starttls         # starttls | tls | none
    user: radar@example.org    # log in as; the password only from TOPIC_REPORT_SMTP_PASSWORD
    from: Radar <radar@example.org>
    to: [ada@example.org]
    topics: [nerf]             # default: every topic
    when: new                  # new (only on a day with something new) | always
    abstracts: link            # link (one click away) | inline
    papers_per_topic: 20       # then "and N more on the page"
  webhook:                     # its URL only from TOPIC_REPORT_WEBHOOK_URL
    topics: [nerf]
    when: new
```
Secrets are never read from the file: a key holding one is refused.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import getaddresses
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


def _one_address(value: str, what: str) -> str:
    """An address as a mail header holds it (`Name <user@host>` or `user@host`), on one line."""
    if any(char in value for char in "\r\n"):
        raise ValueError(f"{what} {value!r} must be one line")
    parsed = getaddresses([value])
    if len(parsed) != 1 or "@" not in parsed[0][1]:
        raise ValueError(f"{what} {value!r} is not one mail address like ada@example.org")
    try:
        Address(addr_spec=parsed[0][1])
    except (ValueError, IndexError):
        raise ValueError(f"{what} {value!r} is not a mail address like ada@example.org") from None
    return value


class Delivery(BaseModel):
    """What every channel shares: which topics, and on which days."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    topics: list[str] | None = Field(default=None, min_length=1, description="topic slugs; default: every topic")
    when: Literal["new", "always"] = Field(default="new", description="new: only on a day with something new")
    papers_per_topic: int = Field(default=20, ge=1, le=1000, description="papers listed per topic, then a count")


class EmailList(Delivery):
    """One message per run to one list of recipients."""

    smtp_host: str = Field(min_length=1)
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = Field(default=None, min_length=1)
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    abstracts: Literal["link", "inline"] = Field(default="link", description="the abstract one click away, or in the mail")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _one_address(value, "from address")

    @field_validator("to")
    @classmethod
    def _to(cls, values: list[str]) -> list[str]:
        return [_one_address(value, "recipient") for value in values]

    @model_validator(mode="after")
    def _no_password_in_the_clear(self) -> EmailList:
        if self.user and self.security == "none":
            raise ValueError("user with security: none would send the password unencrypted; "
                             "use starttls or tls")
        return self

    @property
    def port(self) -> int:
        return self.smtp_port or DEFAULT_PORTS[self.security]

    @property
    def recipient(self) -> str:
        """How the delivery log names this list."""
        return "mail:" + ",".join(sorted(address for _, address in getaddresses(self.to)))


class Webhook(Delivery):
    """One JSON post per run to the chat webhook whose URL is in TOPIC_REPORT_WEBHOOK_URL."""

    @property
    def recipient(self) -> str:
        return "webhook"


class Notify(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    email: list[EmailList] = Field(default_factory=list)
    webhook: Webhook | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _one_or_more(cls, value):
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _distinct_lists(self) -> Notify:
        recipients = [entry.recipient for entry in self.email]
        if len(set(recipients)) != len(recipients):
            raise ValueError("two email entries have the same recipients; merge them (topics: lists both's topics)")
        return self

    @property
    def channels(self) -> list[EmailList | Webhook]:
        return [*self.email, *([self.webhook] if self.webhook else [])]
