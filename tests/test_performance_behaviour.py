"""What a build costs, as behaviour: of many topics, one whose papers changed is the only one whose
page is executed and whose data is loaded from the store (timings are bench/'s: docs/benchmarks.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import nbformat
import psutil

from topic_report import build as build_module
from topic_report import topic_data
from topic_report.settings import Settings
from topic_report.store import FetchRecord, Paper, Store, utc_now
from topic_report.topics import Topic

TOPICS = 12


def paper(paper_id: str, word: str, day: datetime) -> Paper:
    return Paper(id=paper_id, version=1, title=f"On {word}", abstract=f"We study {word}.", authors=["Ada Lovelace"],
                 published=day, updated=day, primary_category="cs.CV", categories=["cs.CV"])


def store_papers(store: Store, topic: Topic, papers: list[Paper]) -> None:
    store.save_fetch(topic.slug, papers, started_at=utc_now(), requests=1, record=FetchRecord(
        kind="window", since=min(p.published for p in papers), until=utc_now(), matched_terms=topic.terms_matched(papers)))


def test_of_many_topics_only_the_one_whose_papers_changed_is_executed_and_loaded(tmp_path, monkeypatch):
    executed, loaded = [], []

    def execute(topic, target, parameters, kernel):  # the page's notebook, without a kernel: what is executed is the point
        executed.append(topic.slug)
        nbformat.write(nbformat.v4.new_notebook(), target)

    load = topic_data.TopicData.load.__func__

    def load_recorded(cls, store, topic, **options):
        loaded.append(topic.slug)
        return load(cls, store, topic, **options)

    monkeypatch.setattr(build_module, "_execute", execute)
    monkeypatch.setattr(topic_data.TopicData, "load", classmethod(load_recorded))
    # Every build within one second, as fast builds are: a page's outputs follow its data, not its time.
    monkeypatch.setattr(build_module, "utc_now", lambda: datetime(2026, 6, 3, 6, 0, tzinfo=UTC))
    topics = [Topic(name=f"Topic {n}", slug=f"topic-{n}", terms=[f"word{n}"]) for n in range(TOPICS)]
    settings = Settings(db_path=tmp_path / "papers.sqlite")
    day = datetime(2026, 6, 1, tzinfo=UTC)
    with Store(settings.db_path) as store:
        for n, topic in enumerate(topics):
            store_papers(store, topic, [paper(f"2606.{n:03d}01", f"word{n}", day)])

    def build() -> int:
        return build_module.build(topics, settings, tmp_path / "_site", work_dir=tmp_path / "build", offline=True)

    assert build() == 0
    assert sorted(executed) == sorted(loaded) == sorted(t.slug for t in topics)
    executed.clear()
    loaded.clear()
    assert build() == 0
    assert executed == loaded == []  # nothing changed: no page executed, no topic's data loaded
    changed = topics[TOPICS // 2]
    with Store(settings.db_path) as store:
        store_papers(store, changed, [paper("2606.99999", f"word{TOPICS // 2}", day + timedelta(days=1))])
    assert build() == 0
    assert executed == loaded == [changed.slug]
    assert "2606.99999" in (tmp_path / "_site" / f"{changed.slug}.bib").read_text(encoding="utf-8")


def test_a_page_is_executed_from_the_data_the_build_loaded_not_from_the_store_again(tmp_path, monkeypatch):
    """The build loads a topic's data once: its exports are made from it and its page's kernel is
    handed it (here the store is away while the kernel runs, so a kernel reading it would fail)."""
    loaded = []
    load = topic_data.TopicData.load.__func__

    def load_recorded(cls, store, topic, **options):
        loaded.append(topic.slug)
        return load(cls, store, topic, **options)

    execute = build_module._execute

    def execute_without_the_store(topic, target, parameters, kernel):
        store_file = tmp_path / "papers.sqlite"
        store_file.rename(tmp_path / "away.sqlite")
        try:
            execute(topic, target, parameters, kernel)
        finally:
            (tmp_path / "away.sqlite").rename(store_file)

    monkeypatch.setattr(topic_data.TopicData, "load", classmethod(load_recorded))
    monkeypatch.setattr(build_module, "_execute", execute_without_the_store)
    topic = Topic(name="Lenses", slug="lenses", terms=["lenses"])
    settings = Settings(db_path=tmp_path / "papers.sqlite")
    with Store(settings.db_path) as store:
        store_papers(store, topic, [paper("2606.00001", "lenses", datetime(2026, 6, 1, tzinfo=UTC))])
    assert build_module.build([topic], settings, tmp_path / "_site", work_dir=tmp_path / "build", offline=True) == 0
    assert loaded == ["lenses"]
    assert "On lenses" in (tmp_path / "_site" / "lenses.html").read_text(encoding="utf-8")
    assert "2606.00001" in (tmp_path / "_site" / "lenses.bib").read_text(encoding="utf-8")
    assert list((tmp_path / "build" / "executing").iterdir()) == []  # the data handed over is not left behind


def test_a_page_s_kernel_is_started_before_its_topic_is_loaded_and_stopped_after(tmp_path, monkeypatch):
    """The kernel's start and its import of the report overlap with the build loading the topic:
    the kernel runs while the data is loaded, and no kernel is left when the build is done."""
    def kernels() -> list[psutil.Process]:
        return [child for child in psutil.Process().children(recursive=True)
                if "ipykernel_launcher" in " ".join(child.cmdline())]

    running_at_load = []
    load = topic_data.TopicData.load.__func__

    def load_recorded(cls, store, topic, **options):
        running_at_load.append(len(kernels()))
        return load(cls, store, topic, **options)

    monkeypatch.setattr(topic_data.TopicData, "load", classmethod(load_recorded))
    topic = Topic(name="Lenses", slug="lenses", terms=["lenses"])
    settings = Settings(db_path=tmp_path / "papers.sqlite")
    with Store(settings.db_path) as store:
        store_papers(store, topic, [paper("2606.00001", "lenses", datetime(2026, 6, 1, tzinfo=UTC))])
    assert build_module.build([topic], settings, tmp_path / "_site", work_dir=tmp_path / "build", offline=True) == 0
    assert running_at_load == [1]
    assert "On lenses" in (tmp_path / "_site" / "lenses.html").read_text(encoding="utf-8")
    assert kernels() == []


def test_a_page_that_fails_to_execute_keeps_the_exports_of_its_last_execution(tmp_path, monkeypatch):
    """The exports made beside a failing execution are dropped: the page kept and its files agree."""
    def execute(topic, target, parameters, kernel):
        nbformat.write(nbformat.v4.new_notebook(), target)

    monkeypatch.setattr(build_module, "_execute", execute)
    topic = Topic(name="Lenses", slug="lenses", terms=["lenses"])
    settings = Settings(db_path=tmp_path / "papers.sqlite")
    day = datetime(2026, 6, 1, tzinfo=UTC)
    with Store(settings.db_path) as store:
        store_papers(store, topic, [paper("2606.00001", "lenses", day)])

    def build() -> int:
        return build_module.build([topic], settings, tmp_path / "_site", work_dir=tmp_path / "build", offline=True)

    assert build() == 0
    with Store(settings.db_path) as store:
        store_papers(store, topic, [paper("2606.00002", "lenses", day + timedelta(days=1))])

    def fail(topic, target, parameters, kernel):
        raise RuntimeError("the kernel died")

    monkeypatch.setattr(build_module, "_execute", fail)
    assert build() == 1
    for _ in range(2):  # and the build after it, from the cache of the last execution
        bibtex = (tmp_path / "_site" / "lenses.bib").read_text(encoding="utf-8")
        assert "2606.00001" in bibtex and "2606.00002" not in bibtex
        (tmp_path / "_site" / "lenses.bib").unlink()
        assert build() == 1
