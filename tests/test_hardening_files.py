"""Issue 11, files, machine and names: damaged and odd input refused in one line, nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT
from helpers import TopicReportError
from helpers.topics import Topic, load_topics, select

TOPIC = "  - name: {name}\n    slug: '{slug}'\n    terms: [x]\n"


def topics_file(tmp_path, *entries: tuple[str, str], extra: str = ""):
    path = tmp_path / "topics.yml"
    path.write_text("topics:\n" + "".join(TOPIC.format(name=n, slug=s) for n, s in entries) + extra,
                    encoding="utf-8")
    return path


def run(*args, env=None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)


def one_line_error(result, expected: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr, result.stderr


# --- Names -------------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", ["index", "search", "sitemap", "listings", "404", "robots"])
def test_a_slug_the_site_uses_itself_is_refused(tmp_path, slug):
    with pytest.raises(TopicReportError) as error:
        load_topics(topics_file(tmp_path, ("Mine", slug)))
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'topics.yml'}:2: topic 'Mine': slug: '{slug}' is reserved")
    assert "\n" not in message


@pytest.mark.parametrize("name", ['"A\\nB"', '"x\\n```\\n[click](javascript:alert(1))"', '"tab\\there"',
                                  '"line\\u2028separator"', '"   "'])
def test_a_topic_name_must_be_one_line(tmp_path, name):
    with pytest.raises(TopicReportError) as error:
        load_topics(topics_file(tmp_path, (name, "t")))
    assert ": name: must" in str(error.value) and "\n" not in str(error.value)


def test_a_name_equal_to_another_topics_slug_is_refused(tmp_path):
    path = topics_file(tmp_path, ("NeRF", "nerf"), ("Other", "other"), ("Nerf", "gaussians"))
    with pytest.raises(TopicReportError, match="duplicate topic name 'Nerf'"):
        load_topics(path)
    path = topics_file(tmp_path, ("Neural Fields", "nerf"), ("NERF", "gaussians"))
    with pytest.raises(TopicReportError) as error:
        load_topics(path)
    assert str(error.value) == f"{path}: topic name 'NERF' is the slug of topic 'Neural Fields'"


def test_topics_are_found_by_slug_first_then_by_name():
    # A file like this is refused (above); a list made in code still resolves the slug first.
    topics = [Topic(name="Gaussian Splatting", slug="gs", terms=["x"]), Topic(name="GS", slug="gs-survey", terms=["x"])]
    assert [t.name for t in select(topics, ["gs"])] == ["Gaussian Splatting"]
    assert [t.name for t in select(topics, ["GS"])] == ["Gaussian Splatting"]  # slugs first, any case
    assert [t.name for t in select(topics, ["gs-survey", "gaussian splatting"])] == ["GS", "Gaussian Splatting"]


# --- Small crashes -----------------------------------------------------------------------------

@pytest.mark.parametrize("extra, expected", [
    ("    window_days: 1000000\n", "topic 'A': window_days: 1000000 days reaches back before arXiv's first paper"),
    ("    since: 1990-01-01\n", "topic 'A': since: 1990-01-01 is before arXiv's first paper (1991-08-14)"),
    ("    since: 2999-01-01\n", "topic 'A': since: 2999-01-01 is in the future"),
])
def test_windows_outside_arxivs_life_are_refused(tmp_path, extra, expected):
    path = topics_file(tmp_path, ("A", "a"), extra=extra)
    result = run("fetch", "--config", str(path), env={"TOPIC_REPORT_DB": str(tmp_path / "s.sqlite")})
    one_line_error(result, f"{path}:2: {expected}")


def test_a_topics_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "topics.yml"
    path.write_bytes(textwrap.dedent("""\
        topics:
          - name: Caf\xe9
            slug: cafe
            terms: [x]
        """).encode("latin-1"))
    result = run("fetch", "--config", str(path), env={"TOPIC_REPORT_DB": str(tmp_path / "s.sqlite")})
    one_line_error(result, f"{path}:2: not UTF-8 text (byte 0xe9)")
