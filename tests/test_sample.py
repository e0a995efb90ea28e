"""The shipped sample: every topic of topics.yml has real papers to show on a first offline run."""

import pytest

from topic_report.sample import load_sample
from topic_report.store import Store
from topic_report.topics import Topic, load_topics

from arxiv_server import SHARED_DIR
from conftest import ROOT


@pytest.mark.parametrize("topic", load_topics(ROOT / "topics.yml"), ids=lambda t: t.slug)
def test_every_topic_has_a_sample_that_loads(tmp_path, topic):
    with Store(tmp_path / "s.sqlite") as store:
        loaded = load_sample(topic, store)
        papers = store.papers(topic.slug)
    assert loaded == len(papers) >= 15
    assert all(p.title and p.authors and p.abstract for p in papers)
    assert all(set(p.categories) & set(topic.categories) for p in papers)


def test_a_topic_without_a_sample_loads_nothing(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        assert load_sample(Topic(name="X", slug="no-sample", terms=["x"]), store) == 0
        assert store.count("no-sample") == 0


CORPORA = SHARED_DIR / "corpora"


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"the real corpora are not at {CORPORA}")
@pytest.mark.parametrize("topic", load_topics(ROOT / "topics.yml"), ids=lambda t: t.slug)
def test_every_sample_paper_is_a_real_record_with_its_complete_author_list(tmp_path, topic):
    import json

    records = {}  # id: its records (a paper in both corpora may differ in spelling)
    for path in CORPORA.glob("*.jsonl"):
        with open(path, encoding="utf-8") as lines:
            for record in map(json.loads, lines):
                records.setdefault(record["id"], []).append(
                    (record["title"], record["authors"], record["categories"]))
    with Store(tmp_path / "s.sqlite") as store:
        load_sample(topic, store)
        papers = store.papers(topic.slug)
    assert len({p.published.date() for p in papers}) > 1  # a slice of days, not one listing
    for paper in papers:
        assert (paper.title, paper.authors, paper.categories) in records[paper.id]
        assert not any("et al" in name for name in paper.authors)
