"""topics.yml: the shipped file is valid; every malformed file gets one line naming topic and key."""

import textwrap

import pytest

from helpers import TopicReportError
from helpers.topics import load_topics, select

GOOD = """
topics:
  - name: NeRF
    slug: nerf
    terms: [neural radiance field, NeRF]
    categories: [cs.CV]
"""


def write(tmp_path, text):
    path = tmp_path / "topics.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_shipped_topics_are_valid_and_include_the_seed_topic():
    topics = load_topics("topics.yml")
    assert len(topics) >= 3
    seed = select(topics, ["3D Reconstruction"])[0]
    assert seed.slug == "3d-reconstruction"
    assert {"Gaussian splatting", "NeRF", "depth estimation", "multi-view stereo"} <= set(seed.terms)
    assert "cs.CV" in seed.categories


def test_defaults_fill_optional_keys(tmp_path):
    (topic,) = load_topics(write(tmp_path, GOOD))
    assert topic.window_days == 30 and topic.max_results == 10_000 and topic.since is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("topics: [\n  - name: x\n", "invalid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("topics: []\n", "topics"),
        (GOOD.replace("    slug: nerf\n", ""), "topic 'NeRF': slug: Field required"),
        (GOOD + "    colour: red\n", "topic 'NeRF': colour: unknown key"),
        (GOOD.replace("[neural radiance field, NeRF]", "[]"), "topic 'NeRF': terms"),
        (GOOD.replace("[neural radiance field, NeRF]", "['  ']"), "topic 'NeRF': terms: a query term is empty"),
        (GOOD.replace("slug: nerf", "slug: Ne RF"), "topic 'NeRF': slug: must be lowercase"),
        (GOOD.replace("[cs.CV]", "['cs CV']"), "is not an arXiv category"),
        (GOOD + "    since: 2026-13-40\n", "topic 'NeRF': since"),
        (GOOD + "    window_days: -3\n", "topic 'NeRF': window_days"),
        (GOOD + GOOD.split("topics:")[1].replace("name: NeRF", "name: Other"), "duplicate topic slug 'nerf'"),
        ("topics:\n  - name: [a, b]\n    slug: a\n    terms: [x]\n", "name: Input should be a valid string"),
    ],
)
def test_malformed_file_gets_one_line_error(tmp_path, text, expected):
    with pytest.raises(TopicReportError) as error:
        load_topics(write(tmp_path, text))
    message = str(error.value)
    assert expected in message
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "topics.yml"))


def test_error_points_at_the_topic_line(tmp_path):
    text = GOOD + "  - name: Broken\n    slug: broken\n    terms: [x]\n    window_days: soon\n"
    with pytest.raises(TopicReportError, match=r"topics.yml:7: topic 'Broken': window_days"):
        load_topics(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(TopicReportError, match="cannot read topics file"):
        load_topics(tmp_path / "nope.yml")


def test_select_by_name_or_slug_and_unknown_topic():
    topics = load_topics("topics.yml")
    assert [t.slug for t in select(topics, ["3d-reconstruction", "3D RECONSTRUCTION"])] == ["3d-reconstruction"]
    with pytest.raises(TopicReportError, match="unknown topic 'Quantum Gravity'; known topics: '3D Reconstruction'"):
        select(topics, ["Quantum Gravity"])
