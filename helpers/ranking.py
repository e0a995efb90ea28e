"""How relevant each paper is to its topic: a deterministic, offline score and one line of why.

The score adds up the signals below, each times its weight (`topic_report.topics.Weights`, the
defaults in brackets; a topic's `ranking:` in topics.yml changes any of them):

- **where the topic's terms stand** (for a `query:` topic, its `ti:`/`abs:`/`all:` phrases): per
  distinct term, its best field: the title [3], else the abstract [1], else the comment [0.5];
- **how often**: log2(1 + occurrences of all terms in title, abstract and comment) [0.5];
- **category**: the paper's primary category is one of the topic's [1], or it is only cross-listed
  to one [0.3];
- **followed authors**: one of the topic's `authors:` wrote it [100: it ranks first];
- **examples**: the TF-IDF cosine (title and abstract; scikit-learn, fitted on the topic's papers
  and its examples) to the nearest of the topic's `like:` papers [10].

A paper scoring below `weak_below` [3] (one term once in the abstract, say) is a weak match: the
page folds it under "also matched". The reason reads like
`title: Gaussian splatting · abstract: point clouds ×2 · primary cs.CV · follows George Drettakis · like 2308.04079`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from topic_report.arxiv.query import WORD, words
from topic_report.characters import PerCharacter
from topic_report.store import Paper
from topic_report.topics import Topic

SEPARATOR = " · "
# Terms named per field in the reason; more are counted ("+2 more"), so the line stays one line.
REASON_TERMS = 3
RANKING_COLUMNS = ["score", "why", "followed", "weak"]


@dataclass(frozen=True)
class Relevance:
    score: float
    why: str
    followed: list[str]  # the topic's followed authors who wrote the paper
    weak: bool


def _field_terms(field: str, found: list[tuple[str, int]]) -> str:
    shown = [term + (f" ×{count}" if count > 1 else "") for term, count in found[:REASON_TERMS]]
    more = f" +{len(found) - REASON_TERMS} more" if len(found) > REASON_TERMS else ""
    return f"{field}: {', '.join(shown)}{more}"


# Phrases are matched as topic_report.topics.Words matches them (words: runs of letters and digits,
# any case; a phrase where its words stand in a row), in its one-string form, cheaper for a text
# only counted: the text's words lower-cased, each between single spaces, where a phrase's words,
# so joined, occur exactly where Words finds the phrase. A character that is no word's (WORD) is
# a space there.
_WORD_OR_SPACE = PerCharacter(lambda char: char if WORD.fullmatch(char) else " ")


def _joined_words(text: str | None) -> str:
    return f" {' '.join((text or '').translate(_WORD_OR_SPACE).split()).lower()} "


def _needle(phrase: str) -> str | None:
    """The phrase's words as _joined_words joins them; None for a phrase without words (found nowhere)."""
    phrase_words = words(phrase)
    return f" {' '.join(phrase_words)} " if phrase_words else None


def _occurrences(joined: str, needle: str) -> int:
    """Occurrences of the phrase in the text, overlapping ones included (as Words.count)."""
    count, at = 0, joined.find(needle)
    while at >= 0:
        count += 1
        at = joined.find(needle, at + 1)
    return count


@dataclass(frozen=True)
class TopicPhrases:
    """What `relevance` looks for, prepared once per topic: each search term with its needle and factor,
    and the topic's name."""

    terms: list[tuple[str, str | None, float]]
    name: str | None

    @classmethod
    def of(cls, topic: Topic) -> TopicPhrases:
        return cls([(term, _needle(term), topic.ranking.term(term)) for term in topic.search_terms], _needle(topic.name))


def relevance(topic: Topic, title: str, abstract: str, comment: str | None, authors: list[str],
              primary_category: str, categories: list[str], nearest: tuple[str, float] | None = None,
              phrases: TopicPhrases | None = None, claimed_by: frozenset[str] | None = None) -> Relevance:
    """One paper's score and reason; `nearest` is its closest example and their cosine similarity;
    `phrases`, the topic's (TopicPhrases.of(topic)), when many papers are scored; `claimed_by`, the
    pins whose author feed claims the paper (None: not known, a pinned author then goes by name)."""
    weights = topic.ranking
    phrases = phrases or TopicPhrases.of(topic)
    fields = {"title": _joined_words(title), "abstract": _joined_words(abstract), "comment": _joined_words(comment)}
    # The fields end to end, two spaces apart, where no needle spans two: most terms are in none.
    anywhere = "".join(fields.values())
    best: dict[str, list[tuple[str, int]]] = {name: [] for name in fields}
    score = occurrences = 0.0
    for term, needle, factor in phrases.terms:
        if needle is None or needle not in anywhere:
            continue
        counts = {name: _occurrences(text, needle) for name, text in fields.items()}
        occurrences += factor * sum(counts.values())
        where = next(name for name in fields if counts[name])
        best[where].append((term, counts[where]))
        score += factor * getattr(weights, where)
    score += weights.frequency * math.log2(1 + occurrences)
    reasons = [_field_terms(name, found) for name, found in best.items() if found]
    if phrases.name and (phrases.name in fields["title"] or phrases.name in fields["abstract"]):
        score += weights.name
        reasons.append("names the topic")
    if topic.categories and primary_category in topic.categories:
        score += weights.primary_category
        reasons.append(f"primary {primary_category}")
    elif topic.categories and (listed := [c for c in categories if c in topic.categories]):
        score += weights.cross_list
        reasons.append(f"cross-list {listed[0]}")
    followed = [author.name for author in topic.authors
                if (author.pin in claimed_by if author.pin and claimed_by is not None else author.wrote(authors))]
    if followed:
        score += weights.author
        reasons.append("follows " + ", ".join(followed))
    if nearest is not None and nearest[1] > 0:
        score += weights.like * nearest[1]
        reasons.append(f"like {nearest[0]} ({nearest[1]:.2f})")
    score = round(score, 2)
    return Relevance(score, SEPARATOR.join(reasons) or "no term found (matched by arXiv's wider search)",
                     followed, score < weights.weak_below and not followed)


def _text(title: str, abstract: str) -> str:
    return f"{title}\n{abstract}"


def nearest_examples(texts: list[str], examples: list[Paper]) -> list[tuple[str, float] | None]:
    """Per text, the nearest example paper (its id) and their TF-IDF cosine similarity; the
    vocabulary and its weights are fitted on the texts and examples together."""
    if not examples or not texts:
        return [None] * len(texts)
    # Here, for a topic with examples: scikit-learn's import (1.6 s of CPU) would be most of a
    # page's ranking otherwise.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts + [_text(p.title, p.abstract) for p in examples])
    similarity = cosine_similarity(matrix[: len(texts)], matrix[len(texts):])
    best = similarity.argmax(axis=1)
    return [(examples[column].id, float(row[column])) for row, column in zip(similarity, best, strict=False)]


def ranked(frame: pd.DataFrame, topic: Topic, examples: list[Paper] = (),
           claims: dict[str, set[str]] | None = None) -> pd.DataFrame:
    """The frame (topic_report.frame schema), its order kept, with each paper's `score`, `why`,
    `followed` (the followed authors who wrote it: a pinned one, the papers its feed claims, per
    pin in `claims`) and `weak` (below the topic's `weak_below`)."""
    nearest = nearest_examples([_text(t, a) for t, a in zip(frame["title"], frame["abstract"], strict=False)], examples)
    phrases = TopicPhrases.of(topic)
    columns = [frame[name] for name in ("title", "abstract", "comment", "authors", "primary_category", "categories")]
    claimed_by = ([frozenset(pin for pin, ids in claims.items() if paper_id in ids) for paper_id in frame["id"]]
                  if claims is not None else [None] * len(frame))
    rows = [relevance(topic, title, abstract, comment if isinstance(comment, str) else None, authors, primary,
                      categories, near, phrases, claimed)
            for (title, abstract, comment, authors, primary, categories), near, claimed
            in zip(zip(*columns, strict=True), nearest, claimed_by, strict=False)]
    return frame.assign(
        score=pd.Series([r.score for r in rows], index=frame.index, dtype="float64"),
        why=pd.Series([r.why for r in rows], index=frame.index, dtype="object"),
        followed=pd.Series([r.followed for r in rows], index=frame.index, dtype="object"),
        weak=pd.Series([r.weak for r in rows], index=frame.index, dtype="bool"))


def by_score(frame: pd.DataFrame) -> pd.DataFrame:
    """The ranked frame, highest score first; ties keep the frame's order (newest first)."""
    return frame.sort_values("score", ascending=False, kind="stable")
