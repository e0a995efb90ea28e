"""The markdown digest: byte-for-byte the seed's format, safe against hostile text."""

import re
from datetime import UTC, datetime

from topic_report.digest import author_line, neutralize, render_digest
from topic_report.store import Paper

from arxiv_server import SHARED_DIR
from conftest import needs_shared

SEED = SHARED_DIR / "seeds" / "000_f92145e8728e4515.txt"
UPDATED = re.compile(r"^_Updated: \d{4}-\d\d-\d\d \d\d:\d\d UTC_$", re.M)


@needs_shared("seeds", "000_f92145e8728e4515.txt")
def test_the_seed_digest_is_reproduced_from_its_papers_served_by_the_emulator(env, cli):
    code, out, err = cli("fetch", "--topic", "3D Reconstruction", "--since", "2026-02-01", "--until", "2026-02-11")
    assert code == 0, err
    assert out.startswith("3D Reconstruction: 15 fetched, 15 new, 0 updated, 1 API request")
    code, digest, _ = cli("digest", "--topic", "3D Reconstruction", "--limit", "15")
    assert code == 0
    seed = SEED.read_text(encoding="utf-8")
    assert UPDATED.search(digest), "the digest carries its update time"
    assert UPDATED.sub("_Updated_", digest) == UPDATED.sub("_Updated_", seed)


def test_digest_output_file_and_window(env, cli, tmp_path):
    cli("fetch", "--topic", "3d-reconstruction", "--since", "2026-02-01", "--until", "2026-02-11")
    target = tmp_path / "digest.md"
    code, out, _ = cli("digest", "--topic", "3d-reconstruction", "--since", "2026-02-10", "--output", str(target))
    assert code == 0 and out == ""
    text = target.read_text(encoding="utf-8")
    assert "Total papers shown: **6**" in text  # the seed has six papers of 2026-02-10
    assert text.count("<details>") == 6


def paper(**fields) -> Paper:
    base = dict(id="2602.00001", version=2, title="T", abstract="A", authors=["Ann"],
                published=datetime(2026, 2, 10, 9, tzinfo=UTC),
                updated=datetime(2026, 2, 11, tzinfo=UTC), primary_category="cs.CV", categories=["cs.CV"])
    return Paper(**(base | fields))


def test_html_is_neutralized_but_comparisons_stay():
    assert neutralize("<script>alert(1)</script>") == "&lt;script>alert(1)&lt;/script>"
    assert neutralize("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)>"
    assert neutralize("regimes $k < 4$, but k<=4 and a<b") == "regimes $k < 4$, but k<=4 and a&lt;b"
    assert neutralize("AT&T &amp; &#60; R&D") == "AT&T &amp;amp; &amp;#60; R&D"
    assert neutralize("<!-- c --> <?php") == "&lt;!-- c --> &lt;?php"
    assert neutralize(r"\textit{VIDA} 100\% $\alpha$") == r"\textit{VIDA} 100\% $\alpha$"


def test_markdown_markers_are_escaped_so_they_show_as_written():
    assert neutralize("**bold** _it_ `code` [x](javascript:alert(1)) ~~s~~") == (
        r"\*\*bold\*\* \_it\_ \`code\` \[x\](javascript:alert(1)) \~\~s\~\~")


def test_a_hostile_paper_cannot_break_out_of_its_details_block():
    text = render_digest("T", [paper(title="</details><script>x</script>", abstract="end </details> <b>x</b>")])
    assert "<script" not in text and text.count("</details>") == 1 and "<b>" not in text


def test_authors_up_to_ten_then_et_al():
    ten = [f"A{i}" for i in range(10)]
    assert author_line(ten) == ", ".join(ten)
    assert author_line(ten + ["A10"]) == ", ".join(ten) + ", et al."
    assert author_line([f"A{i}" for i in range(500)]).count(",") == 10


def test_entry_uses_submission_date_and_current_version():
    text = render_digest("Topic", [paper()], now=datetime(2026, 2, 11, 7, 17, tzinfo=UTC))
    assert text.startswith("# Topic\n\n_Updated: 2026-02-11 07:17 UTC_\n\nTotal papers shown: **1**\n\n\n---\n\n")
    assert "  _2026-02-10_ · https://arxiv.org/abs/2602.00001v2  \n" in text


def test_unicode_and_latex_names_survive():
    text = render_digest("T", [paper(authors=["Zoë Ångström", "李小龙", "José Ñúñez", r"M. M\"uller"],
                                    title=r"$\mathcal{O}(n)$ 3D 🚀 عربي")])
    assert "Zoë Ångström, 李小龙, José Ñúñez, M. M\\\"uller" in text
    assert r"$\mathcal{O}(n)$ 3D 🚀 عربي" in text


def test_empty_digest():
    assert render_digest("T", []).endswith("Total papers shown: **0**\n\n\n---\n\n")


def test_missing_fields_keep_the_layout():
    text = render_digest("T", [paper(title="", authors=[], abstract="")])
    assert "- **(untitled)**  \n" in text and text.count("</details>") == 1
