"""The relevance score: each signal on its own, the reason line, the topics.yml keys, and the seed's
15 papers ranked with the shipped 3D Reconstruction topic."""

from datetime import UTC, datetime

import pytest

from topic_report import TopicReportError
from topic_report.frame import papers_frame
from topic_report.ranking import by_score, nearest_examples, ranked, relevance
from topic_report.store import Paper
from topic_report.topics import Topic, Words, load_topics

from conftest import ROOT

TOPIC = Topic(name="Splats", slug="splats", terms=["Gaussian splatting", "point cloud"], categories=["cs.CV"])


def score(topic=TOPIC, title="", abstract="", comment=None, authors=(), primary="cs.AI", categories=(), nearest=None):
    return relevance(topic, title, abstract, comment, list(authors), primary, list(categories or [primary]), nearest)


def test_a_term_counts_most_in_the_title_then_the_abstract_then_the_comment():
    title, abstract, comment = (score(title="Gaussian splatting"), score(abstract="Gaussian splatting"),
                                score(comment="Gaussian splatting"))
    assert title.score > abstract.score > comment.score > score().score == 0
    assert title.why == "title: Gaussian splatting"
    assert abstract.why == "abstract: Gaussian splatting" and comment.why == "comment: Gaussian splatting"


def test_distinct_terms_count_more_than_one_term_repeated_and_repeats_count_a_little():
    one, repeated, two = (score(abstract="point cloud"), score(abstract="point cloud, point cloud, point cloud"),
                          score(abstract="point cloud and Gaussian splatting"))
    assert one.score < repeated.score < two.score
    assert repeated.why == "abstract: point cloud ×3"


def test_primary_category_counts_more_than_a_cross_list():
    primary = score(title="point cloud", primary="cs.CV")
    cross = score(title="point cloud", primary="cs.RO", categories=["cs.RO", "cs.CV"])
    elsewhere = score(title="point cloud", primary="cs.RO")
    assert primary.score > cross.score > elsewhere.score
    assert primary.why.endswith("primary cs.CV") and cross.why.endswith("cross-list cs.CV")


def test_a_followed_author_ranks_first_and_is_named():
    followed = Topic(**TOPIC.model_dump(exclude={"authors"}), authors=["George Drettakis"])
    by_them = score(followed, abstract="point cloud", authors=["Ann Other", "george  DRETTAKIS"])
    best_otherwise = score(followed, title="Gaussian splatting point cloud", primary="cs.CV")
    assert by_them.score > best_otherwise.score
    assert by_them.followed == ["George Drettakis"] and "follows George Drettakis" in by_them.why
    assert not by_them.weak


def test_the_topic_name_in_the_text_counts():
    named = Topic(name="Point Cloud", slug="pc", terms=["point cloud", "LiDAR"])
    assert score(named, abstract="a point cloud").score > score(named, abstract="LiDAR").score
    assert "names the topic" in score(named, abstract="a point-cloud").why


def test_a_term_factor_scales_that_term():
    halved = Topic(**TOPIC.model_dump(exclude={"ranking"}), ranking={"terms": {"point cloud": 0.5}})
    assert score(halved, title="point cloud").score < score(TOPIC, title="point cloud").score
    assert score(halved, title="Gaussian splatting").score == score(TOPIC, title="Gaussian splatting").score


def test_weights_can_be_changed_per_topic():
    comment_first = Topic(**TOPIC.model_dump(exclude={"ranking"}), ranking={"comment": 9, "title": 0.1})
    assert score(comment_first, comment="point cloud").score > score(comment_first, title="point cloud").score


def test_a_single_passing_mention_is_weak():
    assert score(abstract="a point cloud", primary="cs.CV").weak
    assert not score(title="Gaussian splatting", primary="cs.CV").weak


def test_query_phrases_count_as_terms():
    query = Topic(name="Q", slug="q", query='(ti:"neural radiance" OR abs:NeRF) AND cat:cs.CV ANDNOT au:smith')
    assert score(query, title="Neural radiance fields").why == "title: neural radiance"
    assert score(query, abstract="NeRF").why == "abstract: NeRF"


def paper(paper_id, title, abstract, **fields) -> Paper:
    moment = datetime(2026, 2, 10, tzinfo=UTC)
    return Paper(**{"id": paper_id, "version": 1, "title": title, "abstract": abstract, "authors": ["A"],
                    "published": moment, "updated": moment, "primary_category": "cs.CV", "categories": ["cs.CV"],
                    **fields})


def test_similarity_to_an_example_adds_to_the_score_and_names_the_example():
    example = paper("2308.04079", "3D Gaussian splatting for real-time radiance field rendering",
                    "radiance field methods represent scenes with anisotropic gaussians rendered in real time")
    near, far = ("Real-time radiance field rendering with gaussians", "Protein folding with transformers")
    (near_id, near_cosine), (_, far_cosine) = nearest_examples([near, far], [example])
    assert near_id == "2308.04079" and near_cosine > 0.3 > far_cosine
    assert "like 2308.04079 (" in score(title=near, nearest=(near_id, near_cosine)).why
    assert nearest_examples([near], []) == [None]


def test_the_ranked_frame_keeps_its_order_and_by_score_breaks_ties_by_date():
    papers = [paper("2602.00003", "newest", "a point cloud"), paper("2602.00002", "Gaussian splatting", "x"),
              paper("2602.00001", "oldest", "a point cloud")]
    frame = ranked(papers_frame(papers, "splats"), TOPIC)
    assert list(frame["id"]) == ["2602.00003", "2602.00002", "2602.00001"]
    assert list(by_score(frame)["id"]) == ["2602.00002", "2602.00003", "2602.00001"]
    assert list(frame["weak"]) == [True, False, True]


def test_what_is_new_reads_by_score_unless_the_topic_says_order_date():
    from topic_report.report import Parameters, TopicReport
    from topic_report.topic_data import TopicData
    papers = [paper("2602.00003", "newest", "a point cloud"), paper("2602.00002", "Gaussian splatting", "x")]
    frame = ranked(papers_frame(papers, "splats"), TOPIC)

    def reading_order(topic: Topic) -> list[str]:
        data = TopicData(topic=topic, papers=papers, frame=frame, coverage=None, sample=False, last_run=None,
                         previous_build=None, joined=None, updated=set(), audit=None)
        report = TopicReport(Parameters.check(topic="splats"), data)
        return list(report.in_reading_order["id"])

    assert reading_order(TOPIC) == ["2602.00002", "2602.00003"]
    assert reading_order(TOPIC.model_copy(update={"order": "date"})) == ["2602.00003", "2602.00002"]


def test_ranking_keys_are_validated_in_one_line(tmp_path):
    def error(topic_yaml: str) -> str:
        path = tmp_path / "topics.yml"
        path.write_text("topics:\n  - name: T\n    slug: t\n    terms: [x]\n" + topic_yaml, encoding="utf-8")
        with pytest.raises(TopicReportError) as caught:
            load_topics(path)
        return str(caught.value)

    assert error("    ranking: {titel: 2}\n").endswith("topic 'T': ranking.titel: unknown key")
    assert error("    ranking: {title: -1}\n").endswith("ranking.title: Input should be greater than or equal to 0")
    assert error("    ranking: {terms: {y: 2}}\n").endswith("ranking: terms: 'y' is not one of the topic's terms")
    assert error("    like: [2606.31050]\n").endswith("like: an arXiv id was read as a number: quote each id, "
                                                   "e.g. like: ['2606.31050']")
    assert error("    like: [2308.04079v2]\n").endswith("like: '2308.04079v2' is not an arXiv id such as 2602.09934 "
                                                       "(without version)")
    assert error("    order: relevance\n").endswith("order: Input should be 'score' or 'date'")
    assert error("    authors: [{name: A B, orcid: '12'}]\n").endswith(
        "authors.0.orcid: '12' is not an ORCID iD such as 0000-0002-1825-0097")
    assert error("    authors: ['au:x']\n").endswith("author 'au:x' holds characters of arXiv's query syntax")


def test_global_authors_are_followed_in_every_topic_and_pins_are_kept(tmp_path):
    path = tmp_path / "topics.yml"
    path.write_text("authors: [Ada Lovelace]\ntopics:\n  - {name: T, slug: t, terms: [x],"
                    " authors: [{name: Wei Wang, orcid: 0000-0002-1825-0097}]}\n  - {name: U, slug: u, terms: [y]}\n",
                    encoding="utf-8")
    first, second = load_topics(path)
    assert [(a.name, a.pin) for a in first.authors] == [("Wei Wang", "0000-0002-1825-0097"), ("Ada Lovelace", None)]
    assert [a.name for a in second.authors] == ["Ada Lovelace"]


def test_the_one_phrase_matcher_finds_phrases_as_arxiv_does():
    text = "A 3D-Reconstruction and 3d  reconstruction; nets, not network"
    assert [text[a:b] for a, b in Words(text).find("3D reconstruction")] == ["3D-Reconstruction", "3d  reconstruction"]
    assert "net" not in Words(text) and "nets" in Words(text) and Words("a a a").count("a a") == 2


# The seed digest's 15 papers, judged by reading each title and abstract: what a reader of a
# 3D Reconstruction radar wants (a method, data set or study of recovering 3D shape or scenes),
# and the three the issue names as matching a term in passing.
ABOUT_RECONSTRUCTION = {"2602.09918", "2602.09407", "2602.08909", "2602.08397", "2602.08029", "2602.07980",
                        "2602.07891", "2602.07860"}
IN_PASSING = {"2602.09934": "VersaViT", "2602.09425": "roadside LiDAR vehicle classifier",
              "2602.08230": "adversarial events"}


def test_seed_papers_about_3d_reconstruction_rank_above_those_mentioning_a_term_in_passing(sample_records):
    topic = load_topics(ROOT / "topics.yml")[0]
    papers = [paper(r["id"], r["title"], r["abstract"], categories=r["categories"]) for r in sample_records]
    order = list(by_score(ranked(papers_frame(papers, topic.slug), topic))["id"])
    lowest_relevant = max(order.index(paper_id) for paper_id in ABOUT_RECONSTRUCTION)
    highest_passing = min(order.index(paper_id) for paper_id in IN_PASSING)
    assert lowest_relevant < highest_passing, order


# --- followed authors and examples, fetched from the emulator -----------------------------------

def record(paper_id: str, title: str, authors: list[str], published: str = "2026-02-05T10:00:00Z", **fields) -> dict:
    return {"id": paper_id, "version": 1, "title": title, "abstract": "Nothing the topic's terms name.",
            "authors": authors, "published": published, "updated": published, "categories": ["cs.GR"],
            "primary_category": "cs.GR", **fields}


FOLLOWING = """topics:
  - name: Followed
    slug: followed
    terms: [3D reconstruction]
    categories: [cs.CV]
    authors: [George Drettakis, {name: Wei Wang, orcid: 0000-0002-1825-0097}]
    like: ['2308.04079']
"""


def test_followed_authors_papers_join_without_a_term_and_rank_first_and_examples_are_stored(env, cli, emulator):
    by_drettakis = record("2602.90001", "Relighting with splats", ["Ann Other", "George Drettakis"])
    by_the_pinned_wang = record("2602.90002", "Claimed by the pinned Wei Wang", ["Wei Wang"])
    by_a_namesake = record("2602.90003", "A namesake's paper", ["Wei Wang"])
    # Joins by the topic's term; the pinned Wei Wang's feed does not claim it: not followed.
    by_a_namesake_on_topic = record("2602.90004", "3D reconstruction by a namesake", ["Wei Wang"],
                                    categories=["cs.CV"], primary_category="cs.CV")
    example = record("2308.04079", "3D Gaussian Splatting for Real-Time Radiance Field Rendering", ["B. Kerbl"],
                     published="2023-08-08T17:00:00Z")
    emulator.add([by_drettakis, by_the_pinned_wang, by_a_namesake, by_a_namesake_on_topic, example])
    emulator.claim("0000-0002-1825-0097", ["2602.90002", "2308.04079"])
    config = env / "topics.yml"
    config.write_text(FOLLOWING, encoding="utf-8")

    code, out, err = cli("fetch", "--config", str(config), "--since", "2026-02-01", "--until", "2026-02-11")

    assert code == 0, err
    queries = [r.params.get("search_query", "") for r in emulator.requests]
    assert any('OR (au:"George Drettakis"))' in q for q in queries) and not any("Wei Wang" in q for q in queries)
    assert "/a/0000-0002-1825-0097.atom2" in [r.path for r in emulator.requests]
    from topic_report.store import Store
    from topic_report.topic_data import TopicData
    topic = load_topics(config)[0]
    with Store(env / "papers.sqlite") as store:
        frame = by_score(TopicData.load(store, topic).frame)
        assert [p.id for p in store.papers_by_id(["2308.04079"])] == ["2308.04079"]  # stored, not a member
    ids = list(frame["id"])
    assert "2602.90003" not in ids and "2308.04079" not in ids  # the namesake's paper, the example
    assert set(ids[:2]) == {"2602.90001", "2602.90002"}
    first = frame.iloc[0 if ids[0] == "2602.90001" else 1]
    assert first["followed"] == ["George Drettakis"] and "follows George Drettakis" in first["why"]
    claimed = frame.iloc[1 if ids[0] == "2602.90001" else 0]
    assert claimed["followed"] == ["Wei Wang"] and "follows Wei Wang" in claimed["why"]
    namesake = frame[frame["id"] == "2602.90004"].iloc[0]
    assert namesake["followed"] == [] and "follows" not in namesake["why"]
    assert set(ids[2:]) == {"2602.09918", "2602.09407", "2602.08397", "2602.08029", "2602.07891", "2602.07860",
                            "2602.90004"}
    assert any("like 2308.04079" in why for why in frame["why"])


def test_an_unknown_pinned_author_fails_the_topic_in_one_line(env, cli, emulator):
    config = env / "topics.yml"
    config.write_text(FOLLOWING, encoding="utf-8")
    code, _, err = cli("fetch", "--config", str(config), "--since", "2026-02-01", "--until", "2026-02-11")
    assert code == 1
    assert err.strip().splitlines()[-1] == ("topic-report: error: Followed: arXiv has no author "
                                            f"'0000-0002-1825-0097' (no feed at {emulator.url.removesuffix('/api/query')}"
                                            "/a/0000-0002-1825-0097.atom2)")
