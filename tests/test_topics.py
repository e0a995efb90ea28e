"""topics.yml: the shipped file is valid; every malformed file gets one line naming topic and key."""

import textwrap

import pytest

from topic_report import TopicReportError
from topic_report.topics import load_topics, select

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


# --- exclude, query, quoting, matched terms ------------------------------------------------------

QUERY_TOPIC = """
topics:
  - name: Q
    slug: q
    query: {query}
"""


def test_exclude_per_topic_and_for_every_topic(tmp_path):
    text = "exclude: [survey]\n" + GOOD + "    exclude: [medical imaging, Survey]\n" + \
        "  - {name: Other, slug: other, terms: [LiDAR]}\n"
    nerf, other = load_topics(write(tmp_path, text))
    assert nerf.exclude == ["medical imaging", "Survey", "survey"]
    assert other.exclude == ["survey"]
    assert nerf.excluded("A SURVEY of NeRF", "") and not nerf.excluded("Surveying NeRF", "")
    assert nerf.definition != load_topics(write(tmp_path, GOOD))[0].definition


@pytest.mark.parametrize("query, phrases", [
    ('ti:"Gaussian splatting" OR abs:NeRF', ["Gaussian splatting", "NeRF"]),
    ('(ti:"point cloud" OR all:lidar) AND cat:cs.CV ANDNOT abs:survey', ["point cloud", "lidar"]),
    ('au:smith AND (ti:"a b" ANDNOT (abs:c OR ti:d))', ["a b"]),
    ("diffusion", ["diffusion"]),
])
def test_a_query_topic_searches_the_phrases_of_its_query(tmp_path, query, phrases):
    (topic,) = load_topics(write(tmp_path, QUERY_TOPIC.format(query=f"'{query}'")))
    assert topic.query == query and topic.search_terms == phrases


@pytest.mark.parametrize("query, message", [
    ('(ti:nerf OR abs:nerf', "unbalanced parentheses: '(' without ')'"),
    ('ti:nerf) OR abs:nerf', "unbalanced parentheses: ')' without '('"),
    ('title:nerf', "unknown field 'title:'; arXiv's fields are ti:, au:, abs:, co:, jr:, cat:, rn:, id:, all:"),
    ('submittedDate:[2026 TO 2027]', "unknown field 'submittedDate:' (dates are set by since and window_days); "
                                     "arXiv's fields are ti:, au:, abs:, co:, jr:, cat:, rn:, id:, all:"),
    ('ti:"" OR abs:nerf', 'ti:"" is an empty phrase'),
    ('ti:"  - " OR abs:nerf', 'ti:" - " is an empty phrase'),
    ('ti:"nerf', "a double quote is not closed"),
    ('ti:nerf AND', "ends where a term is expected"),
    ('AND ti:nerf', "AND needs a term on each side"),
    ('ti:nerf abs:nerf', "'abs' follows a term without AND, OR or ANDNOT between them"),
    ('ti: OR abs:x', "ti: has no value"),
    ("'   '", "is empty"),
])
def test_a_malformed_query_is_refused_before_any_request(tmp_path, query, message):
    quoted = query if query.startswith("'") else "'" + query.replace("'", "''") + "'"
    with pytest.raises(TopicReportError) as error:
        load_topics(write(tmp_path, QUERY_TOPIC.format(query=quoted)))
    assert str(error.value) == f"{tmp_path / 'topics.yml'}:3: topic 'Q': query: {message}"


def test_query_and_terms_are_exclusive(tmp_path):
    with pytest.raises(TopicReportError, match="topic 'NeRF': give either query, or terms"):
        load_topics(write(tmp_path, GOOD + "    query: ti:nerf\n"))


@pytest.mark.parametrize("term, phrase", [
    ("NeRF (neural radiance field)", '"NeRF neural radiance field "'),
    ("R&D: a review", '"R&D a review"'),
    ("research AND development", '"research and development"'),
    ("path\\", '"path"'),
    ("[x] {y}", '"x y"'),
])
def test_terms_with_characters_of_the_query_syntax_are_quoted_safely(term, phrase):
    from topic_report.arxiv.query import quote_phrase
    assert quote_phrase(term) == phrase.replace(" \"", "\"")


@pytest.mark.parametrize("term, message", [
    ("AND", "query term 'AND' is an operator of arXiv's query syntax, not a phrase"),
    ("(OR)", "query term '(OR)' is an operator of arXiv's query syntax, not a phrase"),
    (":-)", "query term ':-)' has no letters or digits"),
    ('say "hi"', "query term 'say \"hi\"' must not contain double quotes"),
])
def test_terms_that_cannot_be_a_phrase_are_refused_in_one_line(tmp_path, term, message):
    text = GOOD.replace("[neural radiance field, NeRF]", "[" + repr(term).replace('\\"', '"') + "]")
    with pytest.raises(TopicReportError) as error:
        load_topics(write(tmp_path, text))
    assert str(error.value) == f"{tmp_path / 'topics.yml'}:3: topic 'NeRF': terms: {message}"


def test_matched_terms_are_phrases_matched_as_arxiv_does(tmp_path):
    (topic,) = load_topics(write(tmp_path, GOOD.replace("[neural radiance field, NeRF]",
                                                        "[neural radiance field, NeRF, 3D reconstruction, net]")))
    assert topic.matched_terms("Fast NERF", "We fit Neural  Radiance-Field models for 3D-Reconstruction.") == [
        "neural radiance field", "NeRF", "3D reconstruction"]
    assert topic.matched_terms("A network", "NeRFs and radiance fields") == []  # words, not substrings
    assert topic.search_terms == ["neural radiance field", "NeRF", "3D reconstruction", "net"]


def test_new_keys_have_defaults_and_limits(tmp_path):
    (topic,) = load_topics(write(tmp_path, GOOD))
    assert topic.lookback_days == 7 and topic.exclude == [] and topic.query is None
    with pytest.raises(TopicReportError, match="topic 'NeRF': lookback_days"):
        load_topics(write(tmp_path, GOOD + "    lookback_days: -1\n"))
    with pytest.raises(TopicReportError, match="topic 'NeRF': window_days"):
        load_topics(write(tmp_path, GOOD + "    window_days: 1000000\n"))
