"""Rebuild the shipped samples in data/sample/ and the seed fixture of the tests (run once; kept
for provenance).

- data/sample/<slug>.atom for each topic of topics.yml: the newest papers of June 2026 that match
  the topic, as the loopback emulator serves them from a real corpus (3d-reconstruction-real.jsonl
  for 3D Reconstruction, daily-mixed-2026-06.jsonl for the others): complete records, every author.
- tests/data/seed-digest.atom: the 15 papers of the seed digest, for the test that reproduces it.
  The seed shows title, the first ten authors, date, versioned id and abstract. Where the 3D corpus
  has a paper, its full record is used; otherwise categories are cs.CV (assumed) and, for papers
  the seed ends with "et al.", one placeholder author stands for the authors the seed does not
  list. It is a test fixture, never shown as data.
"""

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED = ROOT.parent / "shared"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import requests  # noqa: E402

from topic_report.arxiv.query import Window, build_query  # noqa: E402
from topic_report.topics import load_topics  # noqa: E402

from arxiv_server import ArxivEmulator, atom_feed, load_jsonl  # noqa: E402  (the loopback emulator)

SEED_TOPIC = "3d-reconstruction"
SEED_FIXTURE = ROOT / "tests" / "data" / "seed-digest.atom"
CORPUS_OF = {SEED_TOPIC: "3d-reconstruction-real.jsonl"}
DEFAULT_CORPUS = "daily-mixed-2026-06.jsonl"
JUNE_2026 = Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 30, 23, 59, tzinfo=UTC))
PAPERS_PER_SAMPLE = 120

UNLISTED_AUTHORS = "et al. (authors after the tenth are not in the seed)"
ENTRY = re.compile(
    r"- \*\*(?P<title>.*)\*\*  \n  (?P<authors>.*)  \n  _(?P<date>[\d-]+)_ · https://arxiv.org/abs/(?P<id>.+)v(?P<version>\d+)  \n"
    r"  <details><summary>Abstract</summary>\n\n  (?P<abstract>.*)\n\n  </details>"
)


def seed_sample() -> bytes:
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
    return atom_feed(papers, total=len(papers), start=0)


def corpus_samples() -> dict[str, bytes]:
    """The API's answer, from the emulator over a real corpus of June 2026, for each topic."""
    samples = {}
    for topic in load_topics(ROOT / "topics.yml"):
        corpus = load_jsonl(SHARED / "corpora" / CORPUS_OF.get(topic.slug, DEFAULT_CORPUS))
        with ArxivEmulator(papers=corpus, recorded_dir=None) as emulator:
            answer = requests.get(emulator.url, params={
                "search_query": build_query(topic, JUNE_2026), "sortBy": "submittedDate",
                "sortOrder": "descending", "start": 0, "max_results": PAPERS_PER_SAMPLE}, timeout=60)
            answer.raise_for_status()
            samples[topic.slug] = answer.content
    return samples


def main() -> None:
    SEED_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    SEED_FIXTURE.write_bytes(seed_sample())
    print(f"wrote {SEED_FIXTURE.relative_to(ROOT)}")
    for slug, feed in corpus_samples().items():
        (HERE / f"{slug}.atom").write_bytes(feed)
        print(f"wrote {slug}.atom ({len(feed) // 1024} KB)")


if __name__ == "__main__":
    main()
