"""The shipped sample: every topic of topics.yml has real papers to show on a first offline run."""

import pytest

from conftest import ROOT
from helpers.sample import load_sample
from helpers.store import Store
from helpers.topics import Topic, load_topics


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
