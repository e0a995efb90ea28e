"""The report notebook (executed with papermill) and the helpers it calls."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from topic_report import RESOURCES, TopicReportError, charts
from topic_report.digest import render_digest
from topic_report.frame import papers_frame
from topic_report.ranking import ranked
from topic_report.report import Parameters, TopicReport, digest_html
from topic_report.store import Paper
from topic_report.tables import (
    ROW_FIELDS,
    highlighted,
    linkified,
    papers_table,
    table_details,
    table_rows,
    title_cells,
)
from topic_report.topics import Topic

NOTEBOOK = RESOURCES / "notebooks" / "topic.ipynb"
CHARTS = {"over-time": 2, "authors": 2, "categories": 1}  # cell id: charts it shows
START = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)


def execute(output_dir, **parameters):
    return papermill.execute_notebook(str(NOTEBOOK), str(output_dir / "topic.ipynb"), parameters=parameters,
                                      kernel_name="python3", progress_bar=False)


def outputs(notebook, cell_id: str) -> list[dict]:
    cell = next(cell for cell in notebook.cells if cell.get("id") == cell_id)
    return [output["data"] for output in cell.outputs]


def html_of(notebook, cell_id: str) -> str:
    (only,) = outputs(notebook, cell_id)
    return only["text/html"]


def without_time(text: str) -> str:
    return re.sub(r"Updated: \d{4}-\d\d-\d\d \d\d:\d\d UTC", "Updated: …", text)


def paper(number: int, **fields) -> Paper:
    published = fields.pop("published", START + timedelta(days=number % 10))
    values = {"id": f"2602.{number:05d}", "version": 1, "title": f"Paper {number}", "abstract": f"Abstract {number}.",
              "authors": [f"Author {number}"], "published": published, "updated": published,
              "primary_category": "cs.CV", "categories": ["cs.CV"], **fields}
    return Paper(**values)


RANKED_BY = Topic(name="Topic", slug="topic", terms=["abstract"], categories=["cs.CV"])


def frame_of(papers: list[Paper]):
    """The papers' frame, ranked as the page ranks it (every paper's abstract holds the term)."""
    return ranked(papers_frame(papers, "topic"), RANKED_BY)


# --- the notebook ----------------------------------------------------------------------------

def test_notebook_executes_with_parameters_for_a_fetched_topic(env, cli):
    code, _, err = cli("fetch", "--topic", "3D Reconstruction", "--since", "2026-02-01", "--until", "2026-02-11")
    assert code == 0, err
    notebook = execute(env, topic="3D Reconstruction", db_path=str(env / "papers.sqlite"), digest_limit=5,
                       previous_build="2026-01-01T00:00:00Z")
    headline = html_of(notebook, "headline")
    assert '<span class="stat-value">15</span><span class="stat-label">papers</span>' in headline
    assert '<span class="stat-value">15</span><span class="stat-label">new since the last build</span>' in headline
    for cell_id, count in CHARTS.items():
        shown = outputs(notebook, cell_id)
        assert len(shown) == count and all(data["image/svg+xml"].startswith("<svg") for data in shown)
    assert 'id="papers"' in html_of(notebook, "table")
    _, markdown, _ = cli("digest", "--topic", "3D Reconstruction", "--limit", "5")
    expected = f'<div class="digest">{digest_html(markdown)}</div>'
    assert without_time(expected) in without_time(html_of(notebook, "digest"))  # in its fold


def test_a_wrong_parameter_type_stops_the_notebook_with_one_clear_line(tmp_path):
    with pytest.raises(PapermillExecutionError) as raised:
        execute(tmp_path, topic="3D Reconstruction", top_authors="many")
    assert raised.value.ename == "TopicReportError"
    assert raised.value.evalue == "parameter top_authors must be a whole number of at least 1, not 'many' (str)"


# --- parameters ------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, message", [
    ({"topic": " "}, "parameter topic must be a non-empty text, not ' ' (str)"),
    ({"topic": 3}, "parameter topic must be a non-empty text, not 3 (int)"),
    ({"since": "01/02/2026"}, "parameter since must be a date YYYY-MM-DD or None, not '01/02/2026' (str)"),
    ({"until": 20260201}, "parameter until must be a date YYYY-MM-DD or None, not 20260201 (int)"),
    ({"digest_limit": 0}, "parameter digest_limit must be a whole number of at least 1, not 0 (int)"),
    ({"top_authors": True}, "parameter top_authors must be a whole number of at least 1, not True (bool)"),
    ({"top_authors": 2.5}, "parameter top_authors must be a whole number of at least 1, not 2.5 (float)"),
    ({"previous_build": "yesterday"}, "parameter previous_build must be an ISO 8601 time or None, not 'yesterday' (str)"),
    ({"db_path": 7}, "parameter db_path must be a file path, not 7 (int)"),
    ({"table_library": "https://cdn.example/dt.js"}, "parameter table_library must be a relative address of a .js "
     "file starting ./ (letters, digits, -_./), not 'https://cdn.example/dt.js' (str)"),
    ({"table_library": "./x.js';alert(1)//.js"}, "parameter table_library must be a relative address of a .js "
     "file starting ./ (letters, digits, -_./), not \"./x.js';alert(1)//.js\" (str)"),
    ({"since": "2026-02-10", "until": "2026-02-01"}, "parameter since (2026-02-10) is after until (2026-02-01)"),
])
def test_wrong_parameters_are_named_in_one_line(wrong, message):
    with pytest.raises(TopicReportError) as raised:
        Parameters.check(**{"topic": "NeRF", **wrong})
    assert str(raised.value) == message


def test_parameters_are_converted_and_given_paths_kept_as_given():
    checked = Parameters.check(topic=" NeRF ", since="2026-02-01", until=date(2026, 2, 11), db_path="data/x.sqlite",
                               previous_build="2026-02-01T10:00:00")
    assert checked.topic == "NeRF"
    assert (checked.since, checked.until) == (date(2026, 2, 1), date(2026, 2, 11))
    assert checked.store_path() == Path("data/x.sqlite")
    assert checked.config is None
    assert checked.previous_build == datetime(2026, 2, 1, 10, tzinfo=UTC)


# --- charts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("days, unit", [(10, "day"), (200, "week"), (4 * 365, "month")])
def test_time_bins_follow_the_span(days, unit):
    frame = frame_of([paper(1, published=START), paper(2, published=START + timedelta(days=days))])
    assert charts.period(frame).unit == unit
    assert charts.papers_per_period(frame).axes[0].get_title(loc="left") == f"Papers per {unit}"


def test_charts_are_titled_labelled_and_dated():
    frame = frame_of([paper(n, authors=["A", "B"][: 1 + n % 2], categories=["cs.CV", "cs.RO"]) for n in range(30)])
    figures = [charts.papers_per_period(frame), charts.cumulative_papers(frame), charts.top_authors(frame, 5),
               charts.authors_per_paper(frame), charts.categories(frame)]
    for figure in figures:
        axes = figure.axes[0]
        assert axes.get_title(loc="left") and axes.get_xlabel()


def tick_labels(figure) -> list[str]:
    figure.canvas.draw()
    return [label.get_text() for label in figure.axes[0].get_xticklabels()]


@pytest.mark.parametrize("days", [0, 1, 2, 20, 89])
def test_daily_charts_tick_whole_days_in_one_format(days):
    frame = frame_of([paper(1, published=START), paper(2, published=START + timedelta(days=days))])
    for figure in (charts.papers_per_period(frame), charts.cumulative_papers(frame)):
        labels = tick_labels(figure)
        assert labels and len(labels) <= charts.MAX_TICKS
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", label) for label in labels), labels


@pytest.mark.parametrize("days, width", [(10, 1), (200, 7)])
def test_bars_are_centred_on_their_period(days, width):
    frame = frame_of([paper(1, published=START), paper(2, published=START + timedelta(days=days))])
    bars = charts.papers_per_period(frame).axes[0].patches
    first = bars[0]
    centre = first.get_x() + first.get_width() / 2
    start = mdates.date2num(charts._binned(frame, charts.period(frame)).index[0])
    assert centre == pytest.approx(start + width / 2)


def test_a_period_not_over_at_the_last_fetch_is_marked_partial():
    frame = frame_of([paper(1, published=datetime(2026, 1, 5, tzinfo=UTC)),
                      paper(2, published=datetime(2026, 6, 3, tzinfo=UTC))])  # a Wednesday
    marked = charts.papers_per_period(frame, as_of=datetime(2026, 6, 3, 18, tzinfo=UTC)).axes[0]
    assert marked.patches[-1].get_hatch() == "///"
    assert "week not over at the last fetch (2026-06-03)" in marked.get_legend_handles_labels()[1]
    complete = charts.papers_per_period(frame, as_of=datetime(2026, 6, 8, 1, tzinfo=UTC)).axes[0]
    assert complete.patches[-1].get_hatch() is None and complete.get_legend() is None


def test_author_ranking_leaves_out_one_paper_authors_and_cuts_ties_by_the_newest_paper():
    frame = frame_of([
        paper(1, authors=["Zed", "Amy"], published=START),
        paper(2, authors=["Zed", "Amy", "Bob"], published=START + timedelta(days=1)),
        paper(3, authors=["Bob", "Solo"], published=START + timedelta(days=5)),
        paper(4, authors=["Cat"], published=START + timedelta(days=2)),
        paper(5, authors=["Cat"], published=START + timedelta(days=2)),
    ])
    assert charts.ranked_authors(frame, 10) == [("Bob", 2), ("Cat", 2), ("Amy", 2), ("Zed", 2)]
    assert charts.AUTHOR_TIES in charts.top_authors(frame, 10).axes[0].get_title(loc="left")
    assert charts.top_authors(frame_of([paper(1), paper(2)]), 10) is None


def test_categories_are_named_and_subject_classes_left_out():
    frame = frame_of([paper(n, primary_category="cs.CV", categories=["cs.CV", "cs.RO", "I.4.8", "68T45"])
                      for n in range(3)])
    labels = [label.get_text() for label in charts.categories(frame).axes[0].get_yticklabels()]
    assert labels == ["cs.RO · Robotics", "cs.CV · Computer Vision and Pattern Recognition"]


def test_term_shares_follow_each_term_through_the_periods():
    def dated(number, year, terms):
        return dict(published=datetime(year, 3, 1, tzinfo=UTC), terms=terms, number=number)
    rows = ([dated(n, 2022, ["NeRF"]) for n in range(2)]  # too few papers to count: left out
            + [dated(n, 2023, ["NeRF"]) for n in range(2, 5)] + [dated(n, 2023, ["point cloud"]) for n in range(5, 12)]
            + [dated(n, 2024, ["NeRF"]) for n in range(12, 15)]  # too few: a gap
            + [dated(n, 2026, ["Gaussian splatting"]) for n in range(15, 24)] + [dated(24, 2026, ["NeRF"])])
    frame = frame_of([paper(row["number"], published=row["published"]) for row in rows])
    frame["matched_terms"] = [row["terms"] for row in rows]
    shares = charts.term_shares(frame, charts.QUARTER)
    assert shares.loc["2023-01-01", "NeRF"] == pytest.approx(30.0)
    assert shares.loc["2026-01-01", "NeRF"] == pytest.approx(10.0)
    assert shares.loc["2026-01-01", "Gaussian splatting"] == pytest.approx(90.0)
    assert shares.index[0] == pd.Timestamp("2023-01-01") and shares.loc["2024-01-01"].isna().all()
    assert shares.loc["2024-04-01"].isna().all()  # no papers: no share
    figure = charts.terms_over_time(frame)
    assert [line.get_label() for line in figure.legends[0].get_lines()] == list(shares.columns)
    frame["matched_terms"] = [[] for _ in rows]
    assert charts.terms_over_time(frame) is None


def test_terms_matching_the_same_papers_are_one_line_of_the_terms_chart():
    frame = frame_of([paper(n, published=START) for n in range(12)])
    frame["matched_terms"] = [["retrieval-augmented generation", "retrieval augmented generation"]
                              + (["RAG"] if n % 2 else []) for n in range(12)]
    shares = charts.term_shares(frame, charts.WEEK)
    assert list(shares.columns) == ["retrieval-augmented generation / retrieval augmented generation", "RAG"]
    assert shares.iloc[0].tolist() == [100.0, 50.0]


def test_chart_labels_are_shown_literally_never_as_mathtext_or_markup():
    names = ["$\\alpha$ O'Brien <b>", "Price $5", "\\$\\frac{1}{0"]
    frame = frame_of([paper(n, authors=names) for n in range(3)])
    svg = charts.svg(charts.top_authors(frame, 5))
    assert "$\\alpha$ O'Brien &lt;b&gt;" in svg and "Price $5" in svg and "\\$\\frac{1}{0" in svg
    assert "α" not in svg


# --- table -----------------------------------------------------------------------------------

@pytest.mark.parametrize("paper_id, linked", [
    ("2602.09934", True), ("0704.0001", True), ("hep-th/9901001", True), ("math.AG/0601001", True),
    ("2602.09934v2", False), ("javascript:alert(1)", False), ('2602.1" onclick="x', False),
])
def test_titles_link_only_to_arxiv_ids(paper_id, linked):
    papers = [paper(1, id=paper_id, title="<b>T</b>")]
    frame = frame_of(papers)
    shown = str(TopicReport(Parameters.check(topic="Topic"), topic_data_of(papers, frame)).whats_new().parts[0])
    title = re.search(r'<p class="paper-title">(.*?)</p>', shown)[1]
    assert title == (f'<a href="https://arxiv.org/abs/{paper_id}">&lt;b&gt;T&lt;/b&gt;</a>' if linked
                     else "&lt;b&gt;T&lt;/b&gt;")
    assert ('class="pdf"' in shown) == linked


def test_table_cells_are_escaped_text_and_links_only_from_arxiv_ids():
    frame = frame_of([paper(1, title="<b>T</b> & \u202eevil", authors=["A <i>", "B", "C", "D"],
                            categories=["cs.CV", "I.4.8"]),
                      paper(2, id="2602.1<script>")])
    rows = [dict(zip(ROW_FIELDS, row, strict=True)) for row in table_rows(frame)["rows"]]
    assert rows[0] == {"id": "2602.00001", "title": "&lt;b&gt;T&lt;/b&gt; &amp; \u202eevil\u202c", "text": None,
                       "authors": ["A &lt;i&gt;", "B", "C"], "authors_count": 4, "submitted": "2026-02-02",
                       "category": "cs.CV", "score": 2.5, "categories": "cs.CV", "new": 0}
    assert rows[1]["id"] == ""
    details = table_details(frame)
    assert details["authors"] == [["A &lt;i&gt;", "B", "C", "D"], ["Author 2"]]
    assert details["why"][0] == "abstract: abstract · primary cs.CV (score 2.5)"


@pytest.mark.parametrize("title, shown, text", [
    ("$E^{3}$Gen: <fast>", '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><msup><mi>E</mi>'
                           '<mrow><mn>3</mn></mrow></msup></mrow></math>Gen: &lt;fast&gt;', "E3Gen: <fast>"),
    ("Plain & simple", "Plain &amp; simple", "Plain & simple"),
])
def test_a_title_cell_is_safe_html_and_sorts_and_searches_by_its_plain_reading(title, shown, text):
    assert title_cells(title) == (shown, text)


def test_the_table_marks_new_papers_for_its_filter_only_after_an_earlier_build():
    frame = frame_of([paper(1), paper(2)])
    new = ROW_FIELDS.index("new")
    assert [row[new] for row in table_rows(frame, {"2602.00002"})["rows"]] == [0, 1]
    assert 'id="papers-new"> only the 1 new since the last build' in papers_table(frame, {"2602.00002"})
    assert 'id="papers-new"' not in papers_table(frame)


def test_the_table_keeps_every_paper_with_what_search_should_find():
    """The rows hold what the first screen shows; the details block every abstract and author,
    each once (the site moves it into a file beside the page; run by hand, it stays inline)."""
    papers = [paper(n, abstract=f"Unique abstract text {n} <x>.", authors=[f"Author {n}.{i}" for i in range(8)],
                    categories=["cs.CV", "cs.RO"]) for n in range(3000)]
    frame = frame_of(papers)
    rows, details = table_rows(frame), table_details(frame)
    assert len(rows["rows"]) == len(details["abstracts"]) == len(details["authors"]) == 3000
    assert rows["names"]["cs.RO"] == "Robotics"
    for page in (papers_table(frame), papers_table(frame, library="./assets/datatables-0123456789ab/datatables.js")):
        first_load, block = page.split('id="papers-details">')
        for p in (papers[0], papers[1500], papers[-1]):
            assert p.id in first_load and p.authors[2] in first_load and p.authors[5] not in first_load
            assert p.abstract.replace("<x>", "&lt;x&gt;") in block and p.authors[5] in block
        assert block.count("Unique abstract text 1500 ") == 1 and "abstract text" not in first_load
        assert "<x>" not in page


def test_a_site_page_links_the_shared_table_files_and_a_notebook_carries_them():
    frame = frame_of([paper(1)])
    site = papers_table(frame, library="./assets/datatables-0123456789ab/datatables.js")
    assert '<link rel="stylesheet" href="./assets/datatables-0123456789ab/datatables.css">' in site
    assert re.search(r'<script type="module" src="\./assets/papers-table/papers-table\.js\?v=[0-9a-f]{12}"></script>', site)
    assert 'data-library="./assets/datatables-0123456789ab/datatables.js"' in site and "DataTable(" not in site
    by_hand = papers_table(frame)
    assert "new DataTable(" in by_hand and "./assets/" not in by_hand  # the script inline, the library from init_tables
    name = re.search(r'data-library-global="(\w+)"', by_hand)[1]
    from itables.javascript import generate_init_offline_itables_html
    from itables.options import dt_bundle

    assert f"window.{name} = " in generate_init_offline_itables_html(dt_bundle)


def test_comments_link_only_web_addresses_and_escape_the_rest():
    comment = 'CVPR 2026 <b>. Code: https://github.com/a/b?x=1&y=2 javascript:alert(1) "x" www.example.org'
    assert linkified(comment) == (
        'CVPR 2026 &lt;b&gt;. Code: <a href="https://github.com/a/b?x=1&amp;y=2" rel="nofollow noopener">'
        'https://github.com/a/b?x=1&amp;y=2</a> javascript:alert(1) &quot;x&quot; '
        '<a href="http://www.example.org" rel="nofollow noopener">www.example.org</a>')


def test_terms_are_highlighted_as_the_topic_matches_them_and_the_text_stays_text():
    text = "A NeRF <b>nerf</b> & NeRFs, 3D Gaussian-Splatting & <mark> x"
    assert highlighted(text, ["NeRF", "Gaussian splatting", "mark", "splatting"]) == (
        "A <mark>NeRF</mark> &lt;b&gt;<mark>nerf</mark>&lt;/b&gt; &amp; NeRFs, "
        "3D <mark>Gaussian-Splatting</mark> &amp; &lt;<mark>mark</mark>&gt; x")


# --- digest ----------------------------------------------------------------------------------

def test_digest_html_keeps_its_details_and_escapes_the_text():
    hostile = paper(1, title="<script>alert(1)</script>", abstract="x</details><img src=x onerror=alert(1)> &amp; *y*")
    rendered = digest_html(render_digest("T <i>", [hostile]))
    assert rendered.count("<details>") == rendered.count("</details>") == 1
    assert "<summary>Abstract</summary>" in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "x&lt;/details&gt;&lt;img src=x onerror=alert(1)&gt; &amp;amp; *y*" in rendered
    assert "<h3>T &lt;i&gt;</h3>" in rendered  # the digest's title sits below the page's sections


def test_digest_html_links_the_arxiv_pages_and_nothing_else():
    rendered = digest_html(render_digest("T", [paper(1, abstract="Code: https://evil.example/x. "
                                                                  "javascript:alert(1) <https://evil.example/y>")]))
    assert '<a href="https://arxiv.org/abs/2602.00001v1">https://arxiv.org/abs/2602.00001v1</a>' in rendered
    assert rendered.count("<a ") == 1


def test_tex_in_titles_and_abstracts_is_math_in_the_cards_and_the_table_and_sorts_as_read():
    papers = [paper(1, title="$E^{3}$Gen: <b>fast</b>", abstract="An $O(N)$ abstract, $5 and $10.")]
    frame = ranked(papers_frame(papers, "topic", {"2602.00001": ["abstract"]}), RANKED_BY)
    row = dict(zip(ROW_FIELDS, table_rows(frame)["rows"][0], strict=True))
    assert "<math" in row["title"] and "&lt;b&gt;fast&lt;/b&gt;" in row["title"]
    # Escaped too: DataTables reads a search text holding `&` as HTML (its entities decoded in a detached element).
    assert row["text"] == "E3Gen: &lt;b&gt;fast&lt;/b&gt;"
    card = TopicReport(Parameters.check(topic="Topic"), topic_data_of(papers, frame))._card(next(frame.itertuples()))
    assert "<math" in card.title and "&lt;b&gt;fast&lt;/b&gt;" in card.title
    assert "<math" in card.abstract and "<mark>abstract</mark>" in card.abstract and "$5 and $10" in card.abstract


def topic_data_of(papers, frame):
    from topic_report.audit import TopicAudit
    from topic_report.store import Coverage
    from topic_report.topic_data import TopicData

    return TopicData(topic=RANKED_BY, papers=papers, frame=frame, coverage=Coverage(None, None, len(frame), False, None),
                     sample=False, last_run=None, previous_build=None, joined=None, updated=set(),
                     audit=TopicAudit([], "it names no categories", None))


@pytest.mark.parametrize("matched, reason", [
    ([], "No paper's title or abstract holds one of the topic's terms as a phrase"),
    (["abstract"], "has 10 papers yet: a share of fewer would say little"),
])
def test_an_empty_terms_chart_says_why(matched, reason):
    papers = [paper(n) for n in range(3)]
    frame = ranked(papers_frame(papers, "topic", {p.id: matched for p in papers}), RANKED_BY)
    section = TopicReport(Parameters.check(topic="Topic"), topic_data_of(papers, frame)).terms_over_time()
    said = html.unescape(str(section.parts[0]))
    assert reason in said and "recorded as papers are fetched" not in said
