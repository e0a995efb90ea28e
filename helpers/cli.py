"""`topic-report`: start a project, fetch its topics from arXiv, write digests, build the report site."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from topic_report import PROG, TopicReportError, settings as settings_module
from topic_report.project import Project
from topic_report.settings import Settings
from topic_report.topics import Topic, load_topics, select


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date of the form YYYY-MM-DD") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _check_dates(args) -> None:
    if args.since and args.until and args.since > args.until:
        raise TopicReportError(f"--since {args.since} is after --until {args.until}")


def cmd_init(args) -> int:
    from topic_report.starter import init

    written = init(args.folder)
    print(f"Wrote {', '.join(path.name for path in written)} into {args.folder}. "
          f"Build the site: cd {args.folder} && {PROG} build")
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


def cmd_build(args) -> int:
    from topic_report.build import build

    project, topics, settings = _project(args)
    return build(topics, settings, args.output_dir or project.output_dir, work_dir=project.root / "build",
                 offline=args.offline, selected=select(topics, args.topic), own_config=project.quarto_config)


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

    init = commands.add_parser("init", help="Write a starter project (topics.yml, _quarto.yml, README.md) into DIR.",
                               description="Write a starter project into DIR: topics.yml (three topics the shipped "
                                           "samples cover, so it builds offline at once), _quarto.yml, README.md, "
                                           ".gitignore. Existing files are never overwritten.")
    init.add_argument("folder", type=Path, metavar="DIR", help="the project folder (created if needed)")
    init.set_defaults(func=cmd_init)

    fetch = command("fetch", "Fetch topics' papers from arXiv into the store.", cmd_fetch)
    fetch.add_argument("--topic", action="append", metavar="NAME", help="topic name or slug (repeatable; default: all)")
    window(fetch)

    digest = command("digest", "Write a topic's markdown digest from the store (no network).", cmd_digest)
    digest.add_argument("--topic", required=True, metavar="NAME", help="topic name or slug")
    window(digest)
    digest.add_argument("--limit", type=_positive, metavar="N", help="papers shown (default: the topic's digest_limit)")
    digest.add_argument("--output", metavar="FILE", help="write here instead of standard output")

    build = command("build", "Fetch, execute the report notebook per topic and render the site.", cmd_build)
    build.add_argument("--topic", action="append", metavar="NAME", help="topic name or slug (repeatable; default: all)")
    build.add_argument("--output-dir", type=Path, metavar="DIR",
                       help="where the site goes (default: _site in the topics file's folder)")
    build.add_argument("--offline", action="store_true", help="use the stored papers; do not contact arXiv")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except TopicReportError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; the store keeps what was saved before", file=sys.stderr)
        return 130
