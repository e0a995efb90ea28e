"""Delivery: after a build, what is new goes out by mail and to a chat webhook (topics.yml's `notify:`,
helpers/notify_config.py).

What is new for a recipient is what the store's delivery log says it has not had: per topic, the
papers that joined it or got a new version since its first delivery attempt (before any, since the
topic's last fetch), less those already sent at that version. Every attempt is logged, sent or not,
so a failed one loses nothing (its papers stay due) and a sent one is never repeated.

A server that is down, slow, refuses the login or answers garbage costs a few bounded tries
(tenacity), then one line: the store's papers and the site are untouched, the failure is logged,
and the command's exit status says so (`DELIVERY_FAILED`).
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import ssl
import sys
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urljoin

import requests
from jinja2 import Environment, PackageLoader, select_autoescape
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential

from topic_report import PROG, TopicReportError
from topic_report.arxiv.schedule import listing_in_force, nothing_announced_reason
from topic_report.audit import TopicAudit, beyond_the_cap
from topic_report.exports import one_line
from topic_report.notify_config import EmailList, Notify, Webhook
from topic_report.ranking import by_score
from topic_report.settings import Settings
from topic_report.store import Store, utc_now
from topic_report.topic_data import ranked_papers
from topic_report.topic_files import PAGE, file_name
from topic_report.topics import Topic, select

PASSWORD_VARIABLE = "TOPIC_REPORT_SMTP_PASSWORD"
WEBHOOK_VARIABLE = "TOPIC_REPORT_WEBHOOK_URL"
# The exit status of a command whose build went well but whose delivery failed.
DELIVERY_FAILED = 3
# Chat limits: Discord's `content` holds 2,000 characters; Slack shortens `text` past 4,000 in
# some clients (Mattermost's default post limit is 16,383). Kept below each, with room to spare.
SLACK_TEXT_LIMIT = 3800
DISCORD_CONTENT_LIMIT = 1900

_templates = Environment(loader=PackageLoader("topic_report", "mail"),
                         autoescape=select_autoescape(enabled_extensions=("html.j2",)),
                         trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)

# --- what is due -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaperNews:
    id: str
    version: int
    title: str
    authors: list[str]
    categories: list[str]
    submitted: str              # YYYY-MM-DD
    abs_url: str
    pdf_url: str
    matched: list[str]          # the topic's terms it matched: why it is here
    abstract: str
    revised: bool               # a new version of a paper the recipient has had (or that was there before)

    @property
    def authors_line(self) -> str:
        shown = ", ".join(self.authors[:6])
        return shown + (f" and {len(self.authors) - 6} more" if len(self.authors) > 6 else "")


@dataclass(frozen=True)
class TopicNews:
    topic: Topic
    day: str                    # what kind of day it was, one line
    failed: bool                # its last fetch failed
    listed: list[PaperNews]     # at most papers_per_topic, most relevant first (or newest: order: date)
    due: list[tuple[str, int]]  # (id, version) of every paper due, listed or not
    due_since: datetime | None
    page_url: str | None

    @property
    def more(self) -> int:
        return len(self.due) - len(self.listed)


@dataclass(frozen=True)
class Digest:
    title: str                  # the subject line
    day: str                    # YYYY-MM-DD
    topics: list[TopicNews]
    abstracts_inline: bool

    @property
    def papers(self) -> int:
        return sum(len(news.due) for news in self.topics)


def _day(store: Store, topic: Topic) -> tuple[str, bool]:
    """What kind of day the topic's last fetch had, and whether it failed."""
    runs = [run for run in store.fetch_runs(topic.slug) if run["kind"] != "sample"]
    if not runs:
        return "not fetched from arXiv yet: nothing to deliver", False
    last = runs[-1]
    if last["outcome"] != "ok":
        return (f"fetch failed ({one_line(last['error'])}); the page keeps its "
                f"{store.count(topic.slug):,} stored papers"), True
    announced = _announced(store, topic, datetime.fromisoformat(last["finished_at"]))
    parts = ([announced] if announced else [] if last["reported"] is None
             else [f"arXiv reports {last['reported']:,} matching"])
    parts.append(f"the last fetch stored {last['new']:,} new, {last['updated']:,} updated")
    if not last["new"] and not last["updated"]:
        earlier = [run for run in runs[:-1] if run["outcome"] == "ok"]
        quiet = earlier and nothing_announced_reason(datetime.fromisoformat(earlier[-1]["finished_at"]),
                                         datetime.fromisoformat(last["finished_at"]))
        if quiet:
            parts.append(quiet)
    return ", ".join(parts), False


def _announced(store: Store, topic: Topic, fetched_at: datetime) -> str | None:
    """The audit's count of the listing in force at the topic's last fetch: what arXiv announced in
    its categories that day, what matches the topic, what it holds (None: that day not audited)."""
    day = listing_in_force(fetched_at)
    audit = TopicAudit.load(topic, store, fetched_at)
    found = next((audited for audited in audit.audited if audited.day == day), None)
    if found is None:
        return None
    text = (f"{day:%a %Y-%m-%d}: arXiv announced {found.announced:,} in its categories, "
            f"{found.matching:,} matching the topic, {found.stored:,} stored")
    if found.pending:
        text += f", {len(found.pending):,} pending"
    if found.beyond_cap:
        text += f", {beyond_the_cap(len(found.beyond_cap), audit.cap)}"
    return text


def topic_news(store: Store, recipient: str, topic: Topic, limit: int, site_url: str | None) -> TopicNews:
    day, failed = _day(store, topic)
    since = store.due_since(recipient, topic.slug)
    papers, revised = store.undelivered(recipient, topic.slug, since) if since else ([], set())
    # The most relevant first, as the page's "What is new" (ranking), unless the topic asks for date order.
    frame = ranked_papers(store, topic, papers)
    frame = (by_score(frame) if topic.order == "score" else frame).head(limit)
    listed = [PaperNews(id=row.id, version=row.version, title=one_line(row.title) or "(untitled)",
                        authors=[one_line(name) for name in row.authors], categories=list(row.categories),
                        submitted=f"{row.published:%Y-%m-%d}", abs_url=row.abs_url, pdf_url=row.pdf_url,
                        matched=list(row.matched_terms), abstract=one_line(row.abstract), revised=row.id in revised)
              for row in frame.itertuples(index=False)]
    return TopicNews(topic, day, failed, listed, [(p.id, p.version) for p in papers], since,
                     urljoin(site_url, file_name(topic.slug, PAGE)) if site_url else None)


def digest_for(channel: EmailList | Webhook, topics: list[Topic], store: Store, site_url: str | None,
               today: datetime) -> Digest:
    chosen = select(topics, channel.topics)
    news = [topic_news(store, channel.recipient, topic, channel.papers_per_topic, site_url) for topic in chosen]
    total = sum(len(n.due) for n in news)
    with_news = [n.topic.name for n in news if n.due]
    title = (f"arXiv, {today:%Y-%m-%d}: {total:,} new paper{'s' if total != 1 else ''} in {', '.join(with_news)}"
             if total else f"arXiv, {today:%Y-%m-%d}: nothing new")
    return Digest(title, f"{today:%Y-%m-%d}", news, isinstance(channel, EmailList) and channel.abstracts == "inline")


# --- mail ----------------------------------------------------------------------------------------

def email_message(digest: Digest, channel: EmailList) -> EmailMessage:
    """The digest as one message with a plain-text and an HTML part (both from templates: the HTML
    one autoescaped, the text one made of `one_line` text)."""
    message = EmailMessage()
    message["Subject"] = digest.title
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=channel.sender.rpartition("@")[2].strip("> ") or None)
    # Automated: no out-of-office replies (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_templates.get_template("digest.txt.j2").render(digest=digest))
    message.add_alternative(_templates.get_template("digest.html.j2").render(digest=digest), subtype="html")
    return message


def _password(channel: EmailList) -> str | None:
    if channel.user is None:
        return None
    password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        raise TopicReportError(f"notify: email logs in as {channel.user!r} but {PASSWORD_VARIABLE} is not set")
    return password


def send_mail(message: EmailMessage, channel: EmailList, settings: Settings) -> None:
    password = _password(channel)
    timeout = settings.delivery_timeout_seconds
    context = ssl.create_default_context()
    smtp = (smtplib.SMTP_SSL(channel.smtp_host, channel.port, timeout=timeout, context=context)
            if channel.security == "tls" else smtplib.SMTP(channel.smtp_host, channel.port, timeout=timeout))
    with smtp:
        if channel.security == "starttls":
            smtp.starttls(context=context)
        if password is not None:
            smtp.login(channel.user, password)
        smtp.send_message(message)


def _mail_retryable(exc: BaseException) -> bool:
    """A server down, slow or hung up may do better next time; a refused login or address will not."""
    if isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused,
                        smtplib.SMTPSenderRefused, smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError)):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (OSError, smtplib.SMTPException))


def _mail_failure(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server refused the login ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"the server refused the recipients {', '.join(exc.recipients)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {exc.smtp_code} {_decoded(exc.smtp_error)}"
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):  # smtplib wraps a read's timeout
        return "no answer in time"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return one_line(str(exc)) or type(exc).__name__


def _decoded(value) -> str:
    return one_line(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))


# --- chat ----------------------------------------------------------------------------------------

def _slack(text: str) -> str:
    """Untrusted text in Slack's (and Mattermost's) `text`: &, < and > escaped as Slack asks (no
    link, no <!channel>), and @ kept from mentioning anyone (Mattermost links every @name)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "@\u2060")


_DISCORD_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()#-])")


def _discord(text: str) -> str:
    """Untrusted text in Discord's `content`: markdown characters backslashed (mentions are off
    for the whole post: `allowed_mentions`)."""
    return _DISCORD_MARKDOWN.sub(r"\\\1", text)


def _chat_text(digest: Digest, limit: int, escape, link) -> str:
    """The digest as chat lines within `limit` characters: per topic a heading, then its papers
    while they fit, then how many more are on its page."""
    lines = [f"{escape(digest.title)}"]
    for news in digest.topics:
        lines.append(f"\n{escape(news.topic.name)}: {escape(news.day)}")
        room = limit - len("\n".join(lines))
        shown = 0
        for paper in news.listed:
            line = f"• {link(paper.abs_url, escape(paper.title))} ({escape(paper.authors_line)})"
            rest = _more_line(news, len(news.due) - shown - 1, link)
            if len(line) + len(rest) + 2 > room:
                break
            lines.append(line)
            room -= len(line) + 1
            shown += 1
        more = _more_line(news, len(news.due) - shown, link)
        if more and len(more) + 1 <= room:
            lines.append(more)
    text = "\n".join(lines)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _more_line(news: TopicNews, more: int, link) -> str:
    if more <= 0:
        return ""
    where = link(news.page_url, "on the page") if news.page_url else "on the topic's page"
    return f"and {more:,} more {where}"


def webhook_body(digest: Digest) -> dict:
    """One post that Slack, Mattermost and Discord incoming webhooks all accept: `text` for Slack and
    Mattermost (Slack's `<url|label>` links), `content` and `allowed_mentions` for Discord (markdown
    links); each ignores the other's keys."""
    return {
        "text": _chat_text(digest, SLACK_TEXT_LIMIT, _slack, lambda url, label: f"<{url}|{label}>"),
        "content": _chat_text(digest, DISCORD_CONTENT_LIMIT, _discord, lambda url, label: f"[{label}](<{url}>)"),
        "allowed_mentions": {"parse": []},
    }


class WebhookRefused(Exception):
    """The webhook answered, but not with success."""

    def __init__(self, status: int, retryable: bool, detail: str = ""):
        super().__init__(f"the webhook answered HTTP {status}{detail}")
        self.retryable = retryable


def _webhook_url() -> str:
    url = os.environ.get(WEBHOOK_VARIABLE, "")
    if not re.fullmatch(r"https?://[^\s]+", url):
        raise TopicReportError(f"notify: webhook is configured but {WEBHOOK_VARIABLE} "
                               f"{'is not an http(s) address' if url else 'is not set'}")
    return url


def post_webhook(body: dict, url: str, settings: Settings) -> None:
    timeout = settings.delivery_timeout_seconds
    # No redirects: the address is a secret, and the post must not be carried anywhere else.
    answer = requests.post(url, json=body, timeout=(timeout, timeout), allow_redirects=False)
    if answer.is_redirect:
        raise WebhookRefused(answer.status_code, False, "; it redirects, which is not followed: "
                                                        f"set {WEBHOOK_VARIABLE} to the final address")
    if not answer.ok:
        raise WebhookRefused(answer.status_code, answer.status_code == 429 or answer.status_code >= 500)


def _webhook_retryable(exc: BaseException) -> bool:
    return exc.retryable if isinstance(exc, WebhookRefused) else isinstance(exc, requests.RequestException)


def _webhook_failure(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect, or the answer was not HTTP"
    return one_line(str(exc))


# --- delivering ----------------------------------------------------------------------------------

def _retrying(settings: Settings, retryable) -> Retrying:
    """Bounded: at most 1 + delivery_retries tries, and no new one after about four timeouts."""
    timeout = settings.delivery_timeout_seconds
    return Retrying(stop=stop_after_attempt(1 + settings.delivery_retries) | stop_after_delay(4 * timeout),
                    wait=wait_exponential(multiplier=timeout / 10, max=timeout),
                    retry=retry_if_exception(retryable), reraise=True)


def _describe_channel(channel: EmailList | Webhook) -> str:
    return f"mail to {', '.join(channel.to)}" if isinstance(channel, EmailList) else "webhook"


def deliver(notify: Notify, topics: list[Topic], store: Store, settings: Settings,
            dry_run: Path | None = None) -> bool:
    """Deliver every channel of `notify`; one line each. Returns False if any delivery failed.
    With `dry_run`, write each message (`mail-N.eml`) and the webhook body (`webhook.json`) there
    instead, and log nothing."""
    ok = True
    for number, channel in enumerate(notify.channels, start=1):
        started = utc_now()
        digest = digest_for(channel, topics, store, settings.site_url, started)
        what = _describe_channel(channel)
        due_since = {n.topic.slug: n.due_since for n in digest.topics if n.due_since}
        if not digest.papers and channel.when == "new":
            print(f"{what}: nothing new, nothing sent", flush=True)
            if dry_run is None:
                store.record_delivery(channel.recipient, started_at=started, outcome="nothing-new", error=None,
                                      due_since=due_since, papers=[])
            continue
        if isinstance(channel, EmailList):
            message = email_message(digest, channel)
            content, name = message.as_bytes(), f"mail-{number}.eml"
            send, retryable, failure = (lambda: send_mail(message, channel, settings)), _mail_retryable, _mail_failure  # noqa: B023 (called in this iteration)
        else:
            body = webhook_body(digest)
            content, name = json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"), "webhook.json"
            send, retryable, failure = ((lambda: post_webhook(body, _webhook_url(), settings)), _webhook_retryable,  # noqa: B023 (called in this iteration)
                                        _webhook_failure)
        count = f"{digest.papers:,} paper{'s' if digest.papers != 1 else ''}"
        if dry_run is not None:
            _write(dry_run / name, content)
            print(f"{what}: {count}, written to {dry_run / name} (dry run: not sent)", flush=True)
            continue
        try:
            for attempt in _retrying(settings, retryable):
                with attempt:
                    send()
        except Exception as exc:  # noqa: BLE001 (any failure of the server or network is one line, not a traceback)
            reason = failure(exc)
            store.record_delivery(channel.recipient, started_at=started, outcome="failed", error=reason,
                                  due_since=due_since, papers=[])
            print(f"{PROG}: error: {what} failed: {reason}; its {count} stay due for the next run "
                  f"(the store and the site are unchanged)", file=sys.stderr, flush=True)
            ok = False
            continue
        store.record_delivery(channel.recipient, started_at=started, outcome="sent", error=None, due_since=due_since,
                              papers=[(n.topic.slug, paper_id, version) for n in digest.topics
                                      for paper_id, version in n.due])
        print(f"{what}: {count} sent", flush=True)
    return ok


def _write(path: Path, content: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as exc:
        raise TopicReportError(f"cannot write {path}: {exc.strerror or exc}") from None
