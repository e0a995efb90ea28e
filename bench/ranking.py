"""How well the relevance score orders a topic's papers, on real papers labelled by hand.

The labelled set (bench/data/ranking-labels.csv): 80 papers drawn at random (seed 2026) from the
345 papers of June 2026 in ../shared/corpora/daily-mixed-2026-06.jsonl that the shipped
3D Reconstruction topic matches (its terms, categories and exclusions). Each was labelled from its
title and abstract, in order of arXiv id and before any score was computed: relevant when the
paper's main contribution reconstructs, represents or renders 3D geometry or scenes from images or
sensor data (3D/4D reconstruction, Gaussian splatting and NeRF scenes, novel view synthesis, depth
and odometry, SfM/MVS and mapping, surface, CT or scene-completion reconstruction); not relevant
when a term only serves another task (recognition, detection, segmentation, classification or
anomaly detection of point clouds or LiDAR scans, generation from text, tracking, simulation,
security or provenance, 2D tasks).

    python bench/ranking.py

Prints, as markdown: precision at 5, 10 and 20 and the average precision of four orders of the 80
papers (the score with the shipped topic; the score without its per-term factors; newest first, the
page's old order; and what a random order gives on average), how many the page folds as weak
matches, then the seed digest's 15 papers in score order. README's "Ranking" section quotes it.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from topic_report.frame import papers_frame  # noqa: E402
from topic_report.ranking import by_score, ranked  # noqa: E402
from topic_report.store import Paper  # noqa: E402
from topic_report.topics import load_topics  # noqa: E402

from arxiv_server import SHARED_DIR, load_atom  # noqa: E402

LABELS = ROOT / "bench" / "data" / "ranking-labels.csv"
CORPUS = SHARED_DIR / "corpora" / "daily-mixed-2026-06.jsonl"
SEED = ROOT / "tests" / "data" / "seed-digest.atom"
CUTOFFS = (5, 10, 20)


def paper(record: dict) -> Paper:
    def moment(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return Paper(id=record["id"], version=record["version"], title=record["title"], abstract=record["abstract"],
                 authors=record["authors"], published=moment(record["published"]),
                 updated=moment(record["updated"]), primary_category=record["primary_category"],
                 categories=record["categories"], comment=record.get("comment"))


def precision(order: list[str], relevant: set[str], k: int) -> float:
    return sum(paper_id in relevant for paper_id in order[:k]) / k


def average_precision(order: list[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for rank, paper_id in enumerate(order, 1):
        if paper_id in relevant:
            hits += 1
            total += hits / rank
    return total / len(relevant)


def row(name: str, order: list[str], relevant: set[str]) -> str:
    cells = [f"{precision(order, relevant, k):.2f}" for k in CUTOFFS] + [f"{average_precision(order, relevant):.2f}"]
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    topic = load_topics(ROOT / "topics.yml")[0]
    without_factors = topic.model_copy(update={"ranking": topic.ranking.model_copy(update={"terms": {}})})
    with LABELS.open(encoding="utf-8") as labels:
        judged = {row["id"]: row["relevant"] == "1" for row in csv.DictReader(labels)}
    relevant = {paper_id for paper_id, yes in judged.items() if yes}
    records = [json.loads(line) for line in CORPUS.open(encoding="utf-8")]
    papers = sorted((paper(r) for r in records if r["id"] in judged), key=lambda p: (p.published, p.id), reverse=True)
    frame = papers_frame(papers, topic.slug)
    print(f"{len(papers)} labelled papers, {len(relevant)} relevant\n")
    print("| order | P@5 | P@10 | P@20 | average precision |\n|---|---|---|---|---|")
    print(row("score, shipped topic", list(by_score(ranked(frame, topic))["id"]), relevant))
    print(row("score, no per-term factors", list(by_score(ranked(frame, without_factors))["id"]), relevant))
    print(row("newest first (the old order)", list(frame["id"]), relevant))
    base = len(relevant) / len(papers)
    print(f"| random (expected) | {base:.2f} | {base:.2f} | {base:.2f} | {base:.2f} |")
    weak = ranked(frame, topic)
    weak = set(weak.loc[weak["weak"], "id"])
    print(f"\nFolded under \"also matched\" (weak): {len(weak)} papers, {len(weak & relevant)} of them relevant; "
          f"{len(relevant - weak)} of the {len(relevant)} relevant ones shown in full.")
    seed = [paper(record) for record in load_atom(SEED)]
    print("\nThe seed digest's 15 papers, shipped 3D Reconstruction topic:\n")
    print("| # | score | title | why |\n|---|---|---|---|")
    for rank, item in enumerate(by_score(ranked(papers_frame(seed, topic.slug), topic)).itertuples(), 1):
        title = item.title if len(item.title) <= 60 else item.title[:59] + "…"
        print(f"| {rank} | {item.score:.2f} | {title} | {item.why} |")


if __name__ == "__main__":
    main()
