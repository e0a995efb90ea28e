"""Rebuild data/sample/3d-reconstruction.atom from the seed digest (run once; kept for provenance).

The seed digest shows title, the first ten authors, date, versioned id and abstract of 15 papers.
Where the corpus ../shared/corpora/3d-reconstruction-real.jsonl has a paper, its full record is
used; otherwise categories are cs.CV (assumed) and, for papers the seed ends with "et al.",
one placeholder author stands for the authors the seed does not list.
"""

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "tests"))

from arxiv_server import atom_feed  # noqa: E402  (the emulator's Atom writer)

UNLISTED_AUTHORS = "et al. (authors after the tenth are not in the seed)"
ENTRY = re.compile(
    r"- \*\*(?P<title>.*)\*\*  \n  (?P<authors>.*)  \n  _(?P<date>[\d-]+)_ · https://arxiv.org/abs/(?P<id>.+)v(?P<version>\d+)  \n"
    r"  <details><summary>Abstract</summary>\n\n  (?P<abstract>.*)\n\n  </details>"
)


def main() -> None:
    seed = (SHARED / "seeds" / "000_f92145e8728e4515.txt").read_text(encoding="utf-8")
    corpus = {}
    with open(SHARED / "corpora" / "3d-reconstruction-real.jsonl", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            corpus[record["id"]] = record
    papers = []
    for m in ENTRY.finditer(seed):
        authors = m["authors"].split(", ")
        if authors[-1] == "et al.":
            authors[-1] = UNLISTED_AUTHORS
        paper = corpus.get(m["id"]) or {
            "id": m["id"], "categories": ["cs.CV"], "primary_category": "cs.CV",
            "published": f"{m['date']}T00:00:00Z", "updated": f"{m['date']}T00:00:00Z",
        }
        paper.update(title=m["title"], abstract=m["abstract"], version=int(m["version"]))
        paper.setdefault("authors", authors)
        papers.append(paper)
    (HERE / "3d-reconstruction.atom").write_bytes(atom_feed(papers, total=len(papers), start=0))
    print(f"wrote {len(papers)} papers")


if __name__ == "__main__":
    main()
