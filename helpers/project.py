"""Where a project's files are: one rule, for the command line and the notebook alike.

A project is the folder of its topics file. The topics file is the one given (`--config FILE`,
the notebook's `config`), else `topics.yml` in the current folder or the nearest folder above it
(as git finds its repository); none found is an error, never a silent default. The store
(`data/papers.sqlite`, or `TOPIC_REPORT_DB` when relative), the site (`_site/`) and the build's
working files (`build/`) are then in the project folder, wherever the command runs from. A path
typed explicitly (`--config`, `--output-dir`, a notebook parameter) is taken as given: relative
to the current folder, like any path on a command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from topic_report import PROG, TopicReportError, settings
from topic_report.topics import DEFAULT_CONFIG

OUTPUT_DIR = Path("_site")
QUARTO_CONFIG = "_quarto.yml"


@dataclass(frozen=True)
class Project:
    topics_file: Path  # as given, or as found

    @classmethod
    def find(cls, config: Path | str | None = None, start: Path | None = None) -> Project:
        """The project of the topics file `config`, or of the nearest topics.yml from `start` (the
        current folder) upwards."""
        if config is not None:
            return cls(Path(config))
        start = (start or Path.cwd()).absolute()
        for folder in (start, *start.parents):
            if (folder / DEFAULT_CONFIG).is_file():
                return cls(folder / DEFAULT_CONFIG)
        raise TopicReportError(
            f"no {DEFAULT_CONFIG} in {start} or any folder above it: pass --config FILE, "
            f"or start a project with `{PROG} init DIR`")

    @property
    def root(self) -> Path:
        return self.topics_file.parent

    def store_path(self, db_path: Path | None = None) -> Path:
        """The store: `db_path`, else the TOPIC_REPORT_DB setting, taken from the project folder when relative."""
        return self.root / (db_path if db_path is not None else settings.from_env().db_path)

    @property
    def output_dir(self) -> Path:
        return self.root / OUTPUT_DIR

    @property
    def quarto_config(self) -> Path | None:
        """The project's own _quarto.yml, if it has one (laid over the shipped one)."""
        own = self.root / QUARTO_CONFIG
        return own if own.is_file() else None
