"""`topic-report`: start a project, fetch its topics from arXiv, write digests, build the report site."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from topic_report import PROG, TopicReportError
from topic_report import settings as settings_module
from topic_report.project import Project
from topic_report.settings import Settings
from topic_report.topics import Topic, arxiv_day, load_config, load_topics, paper_count, select, utc_today


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date of the form YYYY-MM-DD") from None


def _paper_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    try:
        return paper_count(int(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check_dates(args) -> None:
    """Dates within arXiv's life, before any request (a --since after today is the topic
    window's to explain, fetching.py)."""
    for option, day in (("--since", args.since), ("--until", args.until)):
        if day is not None and not (option == "--since" and day > utc_today()):
            try:
                arxiv_day(day)
            except ValueError as exc:
                raise TopicReportError(f"{option} {exc}") from None
    if args.since and args.until and args.since > args.until:
        raise TopicReportError(f"--since {args.since} is after --until {args.until}")


def cmd_init(args) -> int:
    from topic_report.starter import init

    written, install = init(args.folder)
    print(f"Wrote {', '.join(str(path.relative_to(args.folder)) for path in written)} into {args.folder}. "
          f"Build the site: cd {args.folder} && {PROG} build\n"
          f"Its daily workflow installs {install}: where CI gets topic-report from elsewhere, change that line "
          f"of .github/workflows/report.yml.")
    return 0


def _project(args) -> tuple[Project, list[Topic], Settings]:
    """The project (helpers/project.py's rule), its topics, and the settings with its store."""
    project = Project.find(args.config)
    topics = load_topics(project.topics_file)
    settings = settings_module.from_env()
    return project, topics, replace(settings, db_path=project.store_path(settings.db_path))


def cmd_fetch(args) -> int:
    from topic_report.arxiv.paging import ArxivSource
    from topic_report.fetching import fetch_all
    from topic_report.store import Store

    _check_dates(args)
    _, topics, settings = _project(args)
    with Store(settings.db_path) as store:
        store.check_writable()
        summary = fetch_all(select(topics, args.topic), store, ArxivSource(settings), args.since, args.until,
                            everything=topics)
    return 1 if summary.failed or summary.unmatched else 0


def cmd_digest(args) -> int:
    from topic_report.digest import render_digest
    from topic_report.store import Store

    _check_dates(args)
    _, topics, settings = _project(args)
    topic = select(topics, [args.topic])[0]
    with Store(settings.db_path, create=False) as store:
        papers = store.papers(topic.slug, args.since, args.until, limit=args.limit or topic.digest_limit)
    text = render_digest(topic.name, papers)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise TopicReportError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    return 0


class _Stdout:
    """Standard output whose failure to write (a full disk, `> /dev/full`, a closed pipe) is a
    TopicReportError: one line on stderr, not a traceback, whatever command was printing."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._guarded(self._stream.write, text)

    def flush(self) -> None:
        self._guarded(self._stream.flush)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def _guarded(self, action, *args):
        try:
            return action(*args)
        except OSError as exc:
            # What stays buffered would fail again when Python flushes at exit: let it go nowhere.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())
            raise TopicReportError(f"cannot write to standard output: {exc.strerror or exc}") from None


def cmd_build(args) -> int:
    from topic_report.build import build

    project, topics, settings = _project(args)
    code = build(topics, settings, args.output_dir or project.output_dir, work_dir=project.root / "build",
                 offline=args.offline, selected=select(topics, args.topic), own_config=project.quarto_config)
    return code or (0 if args.no_notify else _deliver(project, settings))


def cmd_notify(args) -> int:
    project, _, settings = _project(args)
    return _deliver(project, settings, args.dry_run, asked=True)


def _deliver(project: Project, settings: Settings, dry_run: Path | None = None, asked: bool = False) -> int:
    """Deliver what is new to the project's `notify:` channels; the exit status."""
    config = load_config(project.topics_file)
    if not config.notify.channels:
        if asked:
            print(f"{project.topics_file} has no notify: section; nothing to deliver")
        return 0
    # Here, with somewhere to deliver to: delivery loads the ranking and an HTTP client.
    from topic_report.delivery import DELIVERY_FAILED, deliver
    from topic_report.store import Store

    with Store(settings.db_path, create=False) as store:
        return 0 if deliver(config.notify, config.topics, store, settings, dry_run) else DELIVERY_FAILED


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the full usage is one --help away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    main = _Parser(prog=PROG, description=__doc__)
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str, func) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("--config", type=Path, metavar="FILE",
                         help="topics file; the store and the site are in its folder "
                              "(default: topics.yml in the current folder or the nearest one above)")
        sub.set_defaults(func=func)
        return sub

    def window(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="first submission date (inclusive)")
        sub.add_argument("--until", type=_date, metavar="YYYY-MM-DD", help="last submission date (inclusive)")

    init = commands.add_parser("init", help="Write a starter project (topics.yml, _quarto.yml, README.md, the daily "
                                            "workflow) into DIR.",
                               description="Write a starter project into DIR: topics.yml (three topics the shipped "
                                           "samples cover, so it builds offline at once), _quarto.yml, README.md, "
                                           ".gitignore, .github/workflows/report.yml (the daily build on GitHub). "
                                           "Existing files are never overwritten.")
    init.add_argument("folder", type=Path, metavar="DIR", help="the project folder (created if needed)")
    init.set_defaults(func=cmd_init)

    fetch = command("fetch", "Fetch topics' papers from arXiv into the store.", cmd_fetch)
    fetch.add_argument("--topic", action="append", metavar="NAME", help="topic name or slug (repeatable; default: all)")
    window(fetch)

    digest = command("digest", "Write a topic's markdown digest from the store (no network).", cmd_digest)
    digest.add_argument("--topic", required=True, metavar="NAME", help="topic name or slug")
    window(digest)
    digest.add_argument("--limit", type=_paper_count, metavar="N", help="papers shown (default: the topic's digest_limit)")
    digest.add_argument("--output", metavar="FILE", help="write here instead of standard output")

    build = command("build", "Fetch, execute the report notebook per topic and render the site.", cmd_build)
    build.add_argument("--topic", action="append", metavar="NAME", help="topic name or slug (repeatable; default: all)")
    build.add_argument("--output-dir", type=Path, metavar="DIR",
                       help="where the site goes (default: _site in the topics file's folder)")
    build.add_argument("--offline", action="store_true", help="use the stored papers; do not contact arXiv")
    build.add_argument("--no-notify", action="store_true", help="do not deliver (topics.yml's notify: mail, webhook)")

    notify = command("notify", "Deliver what is new by mail and webhook (topics.yml's notify:), as a build does "
                               "after the site; exit status 3 if a delivery failed.", cmd_notify)
    notify.add_argument("--dry-run", type=Path, metavar="DIR",
                        help="write each mail (mail-N.eml) and the webhook body (webhook.json) into DIR; send nothing")
    return main


def main(argv: list[str] | None = None) -> int:
    stdout, sys.stdout = sys.stdout, _Stdout(sys.stdout)
    try:
        args = parser().parse_args(argv)
        code = args.func(args)
        sys.stdout.flush()
        return code
    except TopicReportError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; the store keeps what was saved before", file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout
