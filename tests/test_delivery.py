"""Delivery (helpers/delivery.py): mail to a real SMTP server on loopback (aiosmtpd, with STARTTLS
and implicit TLS under a certificate made here by trustme), the webhook to a real loopback HTTP
server; the store's delivery log across runs. Nothing of ours is mocked: papers come from the arXiv
emulator through `topic-report fetch`."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import socketserver
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest
import trustme
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from topic_report.arxiv.schedule import listing_in_force
from topic_report.delivery import DELIVERY_FAILED
from topic_report.exports import one_line

from site_data import HOSTILE_AUTHOR, HOSTILE_TITLES, hostile_records, site_topics

USER, PASSWORD = "radar", "correct horse"


@pytest.fixture
def sample_records(sample_records):
    """The emulator serves the seed's papers and two whose metadata tries to inject markup."""
    return sample_records + hostile_records()


@pytest.fixture
def delivery_env(env, monkeypatch):
    """Short bounds, so a hung server costs a second, not minutes."""
    monkeypatch.setenv("TOPIC_REPORT_DELIVERY_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("TOPIC_REPORT_DELIVERY_RETRIES", "1")
    monkeypatch.setenv("TOPIC_REPORT_SITE_URL", "https://radar.example.org/")
    monkeypatch.setenv("ARXIV_RETRIES", "0")
    monkeypatch.delenv("TOPIC_REPORT_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("TOPIC_REPORT_WEBHOOK_URL", raising=False)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_project(folder: Path, notify: dict, *slugs: str) -> Path:
    """A topics file of site_data's topics (default: 3D Reconstruction and the hostile one) with `notify:`."""
    path = site_topics(folder / "topics.yml", *(slugs or ("3d-reconstruction", "hostile")))
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**config, "notify": notify}, allow_unicode=True), encoding="utf-8")
    return path


# --- a real SMTP server on loopback --------------------------------------------------------------

@dataclass
class Inbox:
    """aiosmtpd's handler: keeps every message; `drop` connections hang up mid-DATA first."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    drop: int = 0

    async def handle_DATA(self, server, session, envelope):
        if self.drop:
            self.drop -= 1
            server.transport.close()
            return "421 gone"
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def authenticator(accept: bool):
    def check(server, session, envelope, mechanism, auth_data):
        good = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER
                and auth_data.password.decode() == PASSWORD)
        # handled=False: aiosmtpd answers a refusal itself (535)
        return AuthResult(success=accept and good, handled=False)
    return check


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A certificate authority made here, and a server certificate of it for 127.0.0.1."""
    authority = trustme.CA()
    folder = tmp_path_factory.mktemp("tls")
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    return authority, authority.issue_cert("127.0.0.1", "localhost"), folder / "ca.pem"


@pytest.fixture
def trusted(certificates, monkeypatch):
    """The client trusts the test authority (OpenSSL reads SSL_CERT_FILE), as a private mail server's users would."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates[2]))
    return certificates


def server_context(certificates):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificates[1].configure_cert(context)
    return context


@pytest.fixture
def smtp_server():
    """Start an SMTP server on loopback: plain, STARTTLS with login, or implicit TLS."""
    started = []

    def start(inbox: Inbox, **kwargs) -> int:
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def mail_config(port: int, **changes) -> dict:
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "security": "none", "from": "Radar <radar@example.org>",
            "to": ["ada@example.org", "Grace <grace@example.org>"], **changes}


def parts(message: EmailMessage) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


def test_a_day_with_news_is_one_mail_with_text_and_html_parts_then_nothing_is_sent_twice(
        delivery_env, cli, smtp_server):
    inbox = Inbox()
    config = write_project(delivery_env, {"email": mail_config(smtp_server(inbox))})
    code, out, err = cli("fetch", "--config", str(config))
    assert code == 0, err
    code, out, err = cli("notify", "--config", str(config))
    assert (code, err) == (0, "")
    assert out == "mail to ada@example.org, Grace <grace@example.org>: 17 papers sent\n"
    (message,) = inbox.messages
    assert inbox.recipients == [["ada@example.org", "grace@example.org"]]
    assert message["Subject"].endswith(": 17 new papers in 3D Reconstruction, Hostile <i>names</i> & co")
    assert message["From"] == "Radar <radar@example.org>" and message["Auto-Submitted"] == "auto-generated"
    text, html = parts(message)
    page = lxml.html.fromstring(html)
    # Every paper's title links to its arXiv page; the topic links to its page on the site.
    titles = [a.text_content() for a in page.iter("a") if a.get("href", "").startswith("https://arxiv.org/abs/")
              and a.text_content() != "abstract"]
    assert len(titles) == 17 and set(HOSTILE_TITLES) <= set(titles)
    assert "https://radar.example.org/3d-reconstruction.html" in [a.get("href") for a in page.iter("a")]
    assert "Page: https://radar.example.org/hostile.html" in text
    assert all(title in text for title in titles)
    # The reason each paper matched.
    assert "Matched: zebra crossings" in text

    code, out, err = cli("notify", "--config", str(config))
    assert (code, out, err) == (0, "mail to ada@example.org, Grace <grace@example.org>: nothing new, nothing sent\n", "")
    assert len(inbox.messages) == 1


def test_hostile_titles_and_names_stay_inert_in_both_parts(delivery_env, cli, smtp_server):
    inbox = Inbox()
    config = write_project(delivery_env, {"email": mail_config(smtp_server(inbox), abstracts="inline")}, "hostile")
    cli("fetch", "--config", str(config))
    assert cli("notify", "--config", str(config))[0] == 0
    text, html = parts(inbox.messages[0])
    page = lxml.html.fromstring(html)
    # No element, attribute or script the metadata brought: its markup is text.
    assert not page.xpath("//script | //img | //i | //b | //details | //*[@onerror]")
    assert HOSTILE_TITLES[0] in page.text_content() and HOSTILE_AUTHOR in page.text_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "</details><script>alert(2)</script> &amp; <b>bold</b>" in page.text_content()  # the abstract, inline
    # The text part holds the same text, each value on its own lines.
    assert f"1. {HOSTILE_TITLES[0]}" in text or f"2. {HOSTILE_TITLES[0]}" in text
    assert HOSTILE_AUTHOR in text


def test_untrusted_text_cannot_start_a_line_or_reorder_itself():
    assert one_line("Title\r\nBcc: eve@example.org\u202e gnp.exe\u2028x") == "Title Bcc: eve@example.org gnp.exe x"


def test_a_huge_day_is_bounded_and_says_how_many_more_are_on_the_page(delivery_env, cli, smtp_server):
    inbox = Inbox()
    config = write_project(delivery_env, {"email": mail_config(smtp_server(inbox), papers_per_topic=3)},
                           "3d-reconstruction")
    cli("fetch", "--config", str(config))
    assert cli("notify", "--config", str(config))[0] == 0
    text, html = parts(inbox.messages[0])
    assert "and 12 more on the page" in lxml.html.fromstring(html).text_content()
    assert "... and 12 more on the page: https://radar.example.org/3d-reconstruction.html" in text
    assert text.count("   arXiv: https://arxiv.org/abs/") == 3


def test_nothing_new_sends_nothing_unless_always(delivery_env, cli, smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    config = write_project(delivery_env, {"email": [mail_config(port), mail_config(port, to=["lin@example.org"],
                                                                                   when="always")]})
    cli("fetch", "--config", str(config))
    assert cli("notify", "--config", str(config))[0] == 0
    assert len(inbox.messages) == 2
    code, out, err = cli("notify", "--config", str(config))
    assert code == 0
    assert out.splitlines() == ["mail to ada@example.org, Grace <grace@example.org>: nothing new, nothing sent",
                                "mail to lin@example.org: 0 papers sent"]
    quiet = inbox.messages[2]
    assert quiet["Subject"].endswith(": nothing new") and "Nothing new." in parts(quiet)[0]


def test_each_list_gets_its_topics(delivery_env, cli, smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    config = write_project(delivery_env, {"email": [mail_config(port, to=["a@example.org"], topics=["hostile"]),
                                                    mail_config(port, to=["b@example.org"])]})
    cli("fetch", "--config", str(config))
    code, out, err = cli("notify", "--config", str(config))
    assert out.splitlines() == ["mail to a@example.org: 2 papers sent", "mail to b@example.org: 17 papers sent"]
    assert "3D Reconstruction" not in parts(inbox.messages[0])[0]


def test_starttls_with_login_and_implicit_tls(delivery_env, cli, smtp_server, trusted, monkeypatch):
    starttls, tls = Inbox(), Inbox()
    context = server_context(trusted)
    starttls_port = smtp_server(starttls, tls_context=context, require_starttls=True,
                                authenticator=authenticator(True), auth_require_tls=True)
    # aiosmtpd counts only STARTTLS as TLS for AUTH: on an implicit-TLS port the whole session is.
    tls_port = smtp_server(tls, ssl_context=context, authenticator=authenticator(True), auth_require_tls=False)
    config = write_project(delivery_env, {"email": [
        mail_config(starttls_port, security="starttls", user=USER, to=["a@example.org"]),
        mail_config(tls_port, security="tls", user=USER, to=["b@example.org"])]}, "hostile")
    cli("fetch", "--config", str(config))
    code, out, err = cli("notify", "--config", str(config))
    assert code == DELIVERY_FAILED and not starttls.messages and not tls.messages
    assert err.count("TOPIC_REPORT_SMTP_PASSWORD is not set") == 2
    monkeypatch.setenv("TOPIC_REPORT_SMTP_PASSWORD", PASSWORD)
    code, out, err = cli("notify", "--config", str(config))
    assert (code, err) == (0, ""), err
    assert len(starttls.messages) == len(tls.messages) == 1


def test_an_untrusted_certificate_fails_without_retrying(delivery_env, cli, smtp_server, certificates, monkeypatch):
    inbox = Inbox()
    port = smtp_server(inbox, tls_context=server_context(certificates), require_starttls=True)
    config = write_project(delivery_env, {"email": mail_config(port, security="starttls")}, "hostile")
    cli("fetch", "--config", str(config))
    code, out, err = cli("notify", "--config", str(config))
    assert code == DELIVERY_FAILED and not inbox.messages
    assert "TLS failed (CERTIFICATE_VERIFY_FAILED)" in err and len(err.splitlines()) == 1


@pytest.fixture
def silent_server():
    """A TCP server that accepts and never answers (a hung mail server or webhook)."""
    release = threading.Event()

    class Silent(socketserver.BaseRequestHandler):
        def handle(self):
            release.wait(30)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Silent)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    release.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("failure", ["refuses the login", "is down", "never answers", "hangs up mid-DATA"])
def test_a_failing_mail_server_costs_one_line_and_exit_3_and_the_papers_stay_due(
        delivery_env, cli, smtp_server, trusted, silent_server, monkeypatch, failure):
    monkeypatch.setenv("TOPIC_REPORT_SMTP_PASSWORD", PASSWORD)
    inbox = Inbox(drop=10 if failure == "hangs up mid-DATA" else 0)
    context = server_context(trusted)
    login = {"security": "starttls", "user": USER}
    port, security, said = {
        "refuses the login": (smtp_server(inbox, tls_context=context, authenticator=authenticator(False)), login,
                              "the server refused the login (535)"),
        "is down": (free_port(), {}, "Connection refused"),
        "never answers": (silent_server, {}, "no answer in time"),
        "hangs up mid-DATA": (smtp_server(inbox), {}, "Connection unexpectedly closed"),
    }[failure]
    config = write_project(delivery_env, {"email": mail_config(port, **security)}, "hostile")
    cli("fetch", "--config", str(config))
    store = Path(delivery_env / "papers.sqlite")
    papers_before = sqlite3.connect(store).execute("SELECT * FROM papers ORDER BY id").fetchall()
    code, out, err = cli("notify", "--config", str(config))
    assert code == DELIVERY_FAILED and out == "" and not inbox.messages
    assert err.startswith("topic-report: error: mail to ada@example.org, Grace <grace@example.org> failed: ")
    assert said in err and "its 2 papers stay due for the next run" in err and len(err.splitlines()) == 1
    db = sqlite3.connect(store)
    assert db.execute("SELECT * FROM papers ORDER BY id").fetchall() == papers_before
    assert db.execute("SELECT outcome, papers FROM deliveries").fetchall() == [("failed", 0)]

    # The next run, with the server well again, sends the same papers: nothing lost.
    healthy = Inbox()
    config = write_project(delivery_env, {"email": mail_config(smtp_server(healthy))}, "hostile")
    code, out, err = cli("notify", "--config", str(config))
    assert (code, err) == (0, "") and out.endswith(": 2 papers sent\n") and len(healthy.messages) == 1


def test_a_new_version_goes_out_again_marked_revised_and_a_failed_day_is_caught_up(
        delivery_env, cli, smtp_server, emulator):
    inbox = Inbox()
    port = smtp_server(inbox)
    good = write_project(delivery_env, {"email": mail_config(port)}, "hostile")
    cli("fetch", "--config", str(good))
    assert cli("notify", "--config", str(good))[1].endswith(": 2 papers sent\n")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    revised = {**hostile_records()[0], "version": 2, "title": "Zebra crossings, revised", "updated": now}
    emulator.add([revised, {**hostile_records()[1], "id": "2602.99003", "title": "Zebra crossings, a third"}])
    assert cli("fetch", "--config", str(good))[0] == 0
    write_project(delivery_env, {"email": mail_config(free_port())}, "hostile")  # the server is down
    assert cli("notify", "--config", str(good))[0] == DELIVERY_FAILED
    write_project(delivery_env, {"email": mail_config(port)}, "hostile")
    cli("fetch", "--config", str(good))  # another day, nothing new: the failed day's papers are still due
    assert cli("notify", "--config", str(good))[1].endswith(": 2 papers sent\n")
    text = parts(inbox.messages[1])[0]
    assert "Zebra crossings, revised [revised, v2]" in text and "Zebra crossings, a third\n" in text
    assert "<script>" not in text  # the first version, sent the day before, is not sent again
    assert cli("notify", "--config", str(good))[1].endswith("nothing new, nothing sent\n")


def test_the_day_line_gives_the_audits_counts_of_the_days_listing(delivery_env, cli, emulator):
    day = listing_in_force(datetime.now(UTC))  # a weekend's run reads Friday's listing
    emulator.clock = datetime.combine(day, time(12, 0), UTC)
    submitted = (emulator.clock - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    announced = {"version": 1, "published": submitted, "updated": submitted, "authors": ["Ada Lovelace"],
                 "categories": ["cs.CV"], "primary_category": "cs.CV", "announced": day.isoformat()}
    emulator.add([{**announced, "id": "2612.99001", "title": "Point cloud completion", "abstract": "Points."},
                  {**announced, "id": "2612.99002", "title": "Text classification", "abstract": "Words."}])
    config = write_project(delivery_env, {"email": mail_config(free_port())})
    assert cli("fetch", "--config", str(config))[0] == 0
    code, out, err = cli("notify", "--config", str(config), "--dry-run", str(delivery_env / "out"))
    assert (code, err) == (0, "")
    message = email.message_from_bytes((delivery_env / "out" / "mail-1.eml").read_bytes(), policy=email.policy.default)
    text = parts(message)[0]
    # The audited topic: the listing's counts; the one without categories: what arXiv's search reports.
    assert (f"== 3D Reconstruction ==\n{day:%a %Y-%m-%d}: arXiv announced 2 in its categories, 1 matching the topic, "
            "1 stored, the last fetch stored 16 new, 0 updated") in text
    assert "== Hostile <i>names</i> & co ==\narXiv reports 2 matching, the last fetch stored 2 new, 0 updated" in text


def test_a_connection_dropped_once_is_retried_and_sent_once(delivery_env, cli, smtp_server):
    inbox = Inbox(drop=1)
    config = write_project(delivery_env, {"email": mail_config(smtp_server(inbox))}, "hostile")
    cli("fetch", "--config", str(config))
    code, out, err = cli("notify", "--config", str(config))
    assert (code, err) == (0, "") and len(inbox.messages) == 1


def test_dry_run_writes_the_mail_and_the_webhook_body_and_logs_nothing(delivery_env, cli):
    config = write_project(delivery_env, {"email": mail_config(free_port()), "webhook": {}})
    cli("fetch", "--config", str(config))
    code, out, err = cli("notify", "--config", str(config), "--dry-run", str(delivery_env / "out"))
    assert (code, err) == (0, "")
    message = email.message_from_bytes((delivery_env / "out" / "mail-1.eml").read_bytes(), policy=email.policy.default)
    assert "17 new papers" in message["Subject"]
    body = json.loads((delivery_env / "out" / "webhook.json").read_text(encoding="utf-8"))
    assert set(body) == {"text", "content", "allowed_mentions"}
    assert sqlite3.connect(delivery_env / "papers.sqlite").execute("SELECT count(*) FROM deliveries").fetchone() == (0,)


# --- the webhook ---------------------------------------------------------------------------------

class Hook(BaseHTTPRequestHandler):
    """The loopback webhook: its server's `behaviour` says how it answers."""

    def do_POST(self):
        behaviour = self.server.behaviour
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, self.headers["Content-Type"], json.loads(body)))
        if behaviour == "garbage":
            self.wfile.write(b"\x00\xffnot http at all\r\n\r\n")
            return
        if behaviour == "hang":
            self.server.release.wait(30)
            return
        status = {"ok": 200, "error": 500, "redirect": 302, "forbidden": 403}[behaviour]
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.daemon_threads = True
    server.behaviour, server.posts, server.release = "ok", [], threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("TOPIC_REPORT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hooks/secret")
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_the_webhook_gets_one_post_that_slack_mattermost_and_discord_read(delivery_env, cli, webhook):
    config = write_project(delivery_env, {"webhook": {}})
    cli("fetch", "--config", str(config))
    code, out, err = cli("notify", "--config", str(config))
    assert (code, out, err) == (0, "webhook: 17 papers sent\n", "")
    ((path, kind, body),) = webhook.posts
    assert path == "/hooks/secret" and kind == "application/json"
    text, content = body["text"], body["content"]
    assert len(text) <= 3800 and len(content) <= 1900
    # Slack and Mattermost: &, <, > escaped, links as <url|label>; no markup of the metadata's own.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    assert "<https://radar.example.org/3d-reconstruction.html|on the page>" in text or "|" in text
    # Discord: markdown of the metadata backslashed, no mentions at all.
    assert body["allowed_mentions"] == {"parse": []}
    assert "\\<script\\>" not in content and "\\*\\*stars\\*\\*" not in content  # titles only, abstracts not sent
    assert "[" in content and "](<https://arxiv.org/abs/" in content
    assert cli("notify", "--config", str(config))[1] == "webhook: nothing new, nothing sent\n"
    assert len(webhook.posts) == 1


def test_a_long_day_is_cut_with_a_link_to_the_page(delivery_env, cli, webhook):
    config = write_project(delivery_env, {"webhook": {"papers_per_topic": 1000}}, "3d-reconstruction")
    cli("fetch", "--config", str(config))
    assert cli("notify", "--config", str(config))[0] == 0
    content = webhook.posts[0][2]["content"]
    assert len(content) <= 1900
    assert content.rstrip().endswith("more [on the page](<https://radar.example.org/3d-reconstruction.html>)")


@pytest.mark.parametrize("behaviour, said, tries", [
    ("error", "the webhook answered HTTP 500", 2),
    ("garbage", "cannot connect, or the answer was not HTTP", 2),
    ("hang", "no answer in time", 2),
    ("redirect", "the webhook answered HTTP 302; it redirects, which is not followed", 1),
    ("forbidden", "the webhook answered HTTP 403", 1),
])
def test_a_failing_webhook_is_tried_a_bounded_number_of_times_then_one_line(
        delivery_env, cli, webhook, behaviour, said, tries):
    webhook.behaviour = behaviour
    config = write_project(delivery_env, {"webhook": {}}, "hostile")
    cli("fetch", "--config", str(config))
    code, out, err = cli("notify", "--config", str(config))
    assert code == DELIVERY_FAILED and out == ""
    assert err.startswith(f"topic-report: error: webhook failed: {said}") and len(err.splitlines()) == 1
    assert len(webhook.posts) == tries  # 1 + TOPIC_REPORT_DELIVERY_RETRIES, or 1 when trying again cannot help
    webhook.behaviour = "ok"
    assert cli("notify", "--config", str(config))[1] == "webhook: 2 papers sent\n"


def test_a_webhook_without_its_url_fails_in_one_line(delivery_env, cli):
    config = write_project(delivery_env, {"webhook": {}}, "hostile")
    cli("fetch", "--config", str(config))
    code, out, err = cli("notify", "--config", str(config))
    assert code == DELIVERY_FAILED
    assert err == ("topic-report: error: webhook failed: notify: webhook is configured but TOPIC_REPORT_WEBHOOK_URL "
                   "is not set; its 2 papers stay due for the next run (the store and the site are unchanged)\n")


# --- after a build -------------------------------------------------------------------------------

def test_a_build_delivers_after_the_site_and_a_failed_delivery_leaves_the_site_and_says_3(delivery_env, cli, webhook):
    config = write_project(delivery_env, {"webhook": {}}, "hostile")
    site = delivery_env / "_site"
    webhook.behaviour = "forbidden"
    code, out, err = cli("build", "--config", str(config), "--output-dir", str(site))
    assert code == DELIVERY_FAILED and (site / "hostile.html").is_file() and (site / "all.atom").is_file()
    assert err.startswith("topic-report: error: webhook failed: the webhook answered HTTP 403")
    assert "Site: " in out and "webhook" not in out
    webhook.behaviour = "ok"
    code, out, err = cli("build", "--config", str(config), "--output-dir", str(site), "--no-notify")
    assert code == 0 and len(webhook.posts) == 1
    code, out, err = cli("build", "--config", str(config), "--output-dir", str(site))
    assert (code, err) == (0, "") and out.endswith("webhook: 2 papers sent\n") and len(webhook.posts) == 2


def test_notify_without_a_notify_section_says_so(delivery_env, cli):
    config = site_topics(delivery_env / "topics.yml", "hostile")
    cli("fetch", "--config", str(config))
    assert cli("notify", "--config", str(config)) == (0, f"{config} has no notify: section; nothing to deliver\n", "")


# --- configuration -------------------------------------------------------------------------------

@pytest.mark.parametrize("notify, message", [
    ({"email": {"smtp_host": "h", "from": "r@example.org", "to": ["not an address"]}},
     "notify.email.0.to: recipient 'not an address' is not one mail address"),
    ({"email": {"smtp_host": "h", "from": "r@example.org", "to": ["a@example.org"], "password": "x"}},
     "notify.email.0.password: unknown key"),
    ({"email": {"smtp_host": "h", "from": "r@example.org", "to": ["a@example.org"], "security": "none",
                "user": "u"}}, "would send the password unencrypted"),
    ({"webhook": {"topics": ["nope"]}}, "notify: unknown topic slug 'nope'"),
    ({"webhook": {"url": "https://hooks.example.org/x"}}, "notify.webhook.url: unknown key"),
    ({"email": {"smtp_host": "h", "from": "r@example.org", "to": ["a@example.org"], "when": "daily"}},
     "notify.email.0.when: Input should be 'new' or 'always'"),
])
def test_bad_notify_config_is_one_line_and_nothing_is_touched(delivery_env, cli, notify, message):
    config = write_project(delivery_env, notify, "hostile")
    code, out, err = cli("notify", "--config", str(config))
    assert code == 1 and out == ""
    assert err.startswith(f"topic-report: error: {config}: ") and message in err and len(err.splitlines()) == 1
    assert not (delivery_env / "papers.sqlite").exists()
