"""The explore notebook (executed with nbclient against a store the emulator filled) and
helpers/explore.py, which it calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from topic_report import TopicReportError, explore
from topic_report.frame import COLUMNS as FRAME_COLUMNS
from topic_report.frame import papers_frame
from topic_report.store import Paper

from arxiv_server import ArxivEmulator, load_atom
from conftest import ROOT, SAMPLE_ATOM
from site_data import HOSTILE_TITLES, hostile_records, site_topics

NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)  # a Monday
# A paper of both topics: 3D Reconstruction's "Gaussian splatting", the hostile topic's "zebra crossings".
SHARED = {"id": "2602.99003", "version": 1, "title": "Gaussian splatting of zebra crossings",
          "authors": ["Ada Lovelace", "Grace Hopper"], "abstract": "We map zebra crossings.",
          "published": "2026-02-06T10:00:00Z", "updated": "2026-02-06T10:00:00Z",
          "categories": ["cs.CV"], "primary_category": "cs.CV"}


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A store the real client filled from the emulator: 3D Reconstruction (the seed's 15 papers)
    and a topic of hostile metadata, sharing one paper. Returns (topics file, store)."""
    root = tmp_path_factory.mktemp("explore")
    config = site_topics(root / "topics.yml", "3d-reconstruction", "hostile")
    store = root / "papers.sqlite"
    with ArxivEmulator(papers=load_atom(SAMPLE_ATOM) + hostile_records() + [SHARED]) as emulator, \
            pytest.MonkeyPatch.context() as patch:
        for name, value in {**emulator.environment(), "TOPIC_REPORT_DB": str(store),
                            "ARXIV_DELAY_SECONDS": "0.01", "ARXIV_RETRIES": "0"}.items():
            patch.setenv(name, value)
        from topic_report.cli import main
        assert main(["fetch", "--config", str(config), "--until", "2026-02-28"]) == 0
    return config, store


@pytest.fixture(scope="module")
def explorer(filled):
    config, store = filled
    return explore.Explorer.open(config=config, db_path=store)


# --- the notebook ----------------------------------------------------------------------------

def parameterized(config, store, **values) -> nbformat.NotebookNode:
    """The notebook with its parameters cell set, as papermill would."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
    values = {"config": str(config), "db_path": str(store), **values}
    cell.source += "\n" + "\n".join(f"{name} = {value!r}" for name, value in values.items())
    return notebook


def test_the_explore_notebook_runs_top_to_bottom_and_shows_tables_and_a_chart(filled):
    notebook = parameterized(*filled, search_terms=["zebra crossings"])
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = {cell.id: cell.outputs for cell in notebook.cells if cell.cell_type == "code"}
    assert not [output for cells in outputs.values() for output in cells
                if output.output_type == "error" or output.get("name") == "stderr"]
    html = {cell_id: "".join(output.get("data", {}).get("text/html", "") for output in cells)
            for cell_id, cells in outputs.items()}
    assert "<style>" in html["open"] and ".headline" in html["open"]  # the report's styles travel
    for table in ("frame", "search-terms", "search-author", "shared"):
        assert '<table id="itables_' in html[table], table
    assert "Gaussian splatting of zebra crossings" in html["shared"]
    for title in HOSTILE_TITLES:  # found by the search, shown as text
        assert title not in html["search-terms"] and title.replace("<", "&lt;").replace(">", "&gt;") in html["search-terms"]
    (chart,) = outputs["terms"]
    assert chart.data["image/svg+xml"].startswith("<svg") and "Papers mentioning each term" in chart.data["image/svg+xml"]
    assert "Ada Lovelace" in html["pairs"]


# --- the store as DataFrames -----------------------------------------------------------------

def test_every_column_is_documented():
    assert set(explore.COLUMNS) == set(FRAME_COLUMNS) | {"topics"}
    assert list(explore.columns().data.index) == list(explore.COLUMNS)


def test_papers_of_every_topic_are_listed_once_with_their_topics(explorer):
    papers = explorer.papers()
    assert papers["id"].is_unique and len(papers) == 15 + 2 + 1
    assert papers.loc[papers["id"] == SHARED["id"], "topics"].item() == ["3d-reconstruction", "hostile"]
    assert papers["published"].is_monotonic_decreasing
    summary = explorer.summary().set_index("slug")
    assert summary.loc["3d-reconstruction", "papers"] == 16 and summary.loc["hostile", "papers"] == 3


def test_overlap_counts_shared_papers_and_shared_lists_them(explorer):
    overlap = explorer.overlap()
    assert overlap.loc["3D Reconstruction", "3D Reconstruction"] == 16
    assert overlap.loc["3D Reconstruction", explorer.topic("hostile").name] == 1
    assert list(explorer.shared("3D Reconstruction")["id"]) == [SHARED["id"]]
    assert list(explorer.shared("hostile", "3d-reconstruction")["id"]) == [SHARED["id"]]


def test_search_combines_terms_author_category_dates_and_topics(explorer):
    assert list(explorer.search("zebra crossings")["id"]) == [SHARED["id"], "2602.99002", "2602.99001"]
    assert list(explorer.search("ZEBRA Crossings", author="lovelace")["id"]) == [SHARED["id"], "2602.99001"]
    assert list(explorer.search("zebra crossings", category="cs.RO")["id"]) == ["2602.99002", "2602.99001"]
    assert list(explorer.search("zebra crossings", since="2026-02-06", until=date(2026, 2, 6))["id"]) == [SHARED["id"]]
    assert list(explorer.search(["zebra crossings", "gaussian splatting"], match="all")["id"]) == [SHARED["id"]]
    assert len(explorer.search(topics="3D Reconstruction")) == 16
    assert explorer.search(author="nobody at all").empty


@pytest.mark.parametrize("call, message", [
    (lambda e: e.search(since="2026-02-31"), "since must be a date YYYY-MM-DD, not '2026-02-31'"),
    (lambda e: e.search(""), "term must be a non-empty text, not ''"),
    (lambda e: e.search([]), "give at least one term"),
    (lambda e: e.search("x", match="some"), "match must be 'any' or 'all', not 'some'"),
    (lambda e: e.search(topics="nope"), "unknown topic 'nope'"),
    (lambda e: e.frame("nope"), "unknown topic 'nope'"),
])
def test_wrong_input_is_one_clear_line(explorer, call, message):
    with pytest.raises(TopicReportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(explorer)


def test_a_missing_store_is_named_and_not_created(tmp_path):
    with pytest.raises(TopicReportError, match="no store at .*missing.sqlite: run `make report`"):
        explore.Explorer.open(db_path=tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()


# --- helpers on frames of known papers --------------------------------------------------------

def frame(*papers: dict) -> pd.DataFrame:
    made = []
    for number, fields in enumerate(papers):
        published = fields.pop("published", START)
        made.append(Paper(**{"id": f"2602.{number:05d}", "version": 1, "title": f"Paper {number}", "abstract": "",
                             "authors": [], "published": published, "updated": published,
                             "primary_category": "cs.CV", "categories": ["cs.CV"], **fields}))
    return papers_frame(made, "topic")


def test_terms_are_whole_words_in_title_or_abstract_any_case():
    papers = frame({"title": "RAG for code"}, {"abstract": "Cold storage tiers."}, {"abstract": "rag\nretrieval"},
                   {"title": "Point  clouds", "abstract": "point-cloud"})
    assert list(explore.mentions(papers, ["RAG"])) == [True, False, True, False]
    assert list(explore.mentions(papers, ["point clouds"])) == [False, False, False, True]
    assert list(explore.mentions(papers, ["cloud"])) == [False, False, False, True]  # in "point-cloud"


def test_coauthor_network_counts_papers_together_and_leaves_out_large_collaborations():
    papers = frame({"authors": ["Ann", "Bob", "Cy"]}, {"authors": ["Bob", "Ann"]}, {"authors": ["Dee", "Eve", "Dee"]},
                   {"authors": ["Fay"]}, {"authors": [f"Member {n}" for n in range(31)] + ["Ann"]})
    graph = explore.coauthor_graph(papers)
    assert graph.edges["Ann", "Bob"]["papers"] == 2 and graph.edges["Ann", "Cy"]["papers"] == 1
    assert graph.nodes["Ann"]["papers"] == 2 and "Member 0" not in graph and not graph.has_edge("Dee", "Dee")
    assert explore.strongest_pairs(graph, 3).values.tolist() == [["Ann", "Bob", 2], ["Ann", "Cy", 1], ["Bob", "Cy", 1]]
    groups = explore.author_groups(graph)
    assert groups.to_dict("records") == [{"authors": 3, "pairs": 3, "members": ["Ann", "Bob", "Cy"]},
                                         {"authors": 2, "pairs": 1, "members": ["Dee", "Eve"]}]
    assert explore.most_prolific(papers) == "Ann"
    assert explore.most_prolific(frame()) is None


def test_term_counts_per_period_include_quiet_periods():
    papers = frame({"title": "NeRF", "published": START}, {"title": "NeRF and SLAM", "published": START},
                   {"abstract": "slam", "published": START + timedelta(days=14)})
    counts = explore.term_counts(papers, ["NeRF", "SLAM"], freq="W-MON")
    assert counts.to_dict("index") == {pd.Timestamp("2026-02-02"): {"NeRF": 2, "SLAM": 1},
                                       pd.Timestamp("2026-02-09"): {"NeRF": 0, "SLAM": 0},
                                       pd.Timestamp("2026-02-16"): {"NeRF": 0, "SLAM": 1}}
    svg = explore.chart(explore.terms_figure(counts)).data
    assert "NeRF" in svg and "SLAM" in svg
    assert explore.term_counts(frame(), ["NeRF"]).empty


def test_the_explore_notebook_runs_for_a_single_topic_that_shares_nothing(tmp_path, filled):
    config, store = filled
    alone = site_topics(tmp_path / "topics.yml", "3d-reconstruction")
    notebook = parameterized(alone, store, search_terms=["depth estimation"])
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = {cell.id: cell.outputs for cell in notebook.cells if cell.cell_type == "code"}
    assert not [output for cells in outputs.values() for output in cells if output.output_type == "error"]
    shared = "".join(output.get("data", {}).get("text/html", "") for output in outputs["shared"])
    assert '<table id="itables_' in shared


def test_author_groups_show_every_member():
    graph = explore.coauthor_graph(frame({"authors": [f"Author with a rather long name {i}" for i in range(6)]}))
    view = explore.readable(explore.author_groups(graph))
    assert view.iloc[0].tolist() == [6, 15, ", ".join(f"Author with a rather long name {i}" for i in range(6))]


def test_readable_frames_show_lists_as_text_and_days():
    papers = frame({"authors": ["A", "B", "C", "D", "E"], "categories": ["cs.CV", "cs.RO"]})
    view = explore.readable(papers, ["authors", "categories", "published"])
    assert view.iloc[0].tolist() == ["A, B, C +2 more", "cs.CV, cs.RO", "2026-02-02"]
