"""Training and test data for the answer scorer: candidate sentences, features, labels.

Every question is asked through the service's own retrieval and rerank
(``Engine.evidence``); the sentences of its top passages become rows of
``qa.scorer.FEATURES``, labelled 1 when the sentence holds a gold answer string (SQuAD
normalisation). The splits keep every article on one side:

- SQuAD dev: its articles (titles) shuffled with the seed, first half train, second test;
- news: 2023-2024 questions over their own pages (``bench.scorer_archives``) train, the
  2025 quick loop test.

Besides, a seeded share of the training questions of each is asked again without the
articles that answer them (``squad-negative``, ``news-negative``), and every news
training question is asked of one article alone, as an index of a single story answers
it: its own (``news-alone``) and the best-ranked other one that lacks the answer
(``news-alone-negative``).

    python -m bench.scorer_data --squad ../shared/eval/squad-v1.1-dev.json \
        --news ../shared/eval/news-rtqa

writes ``bench/out/scorer/{squad,news}-{train,test,negative}.npz`` and
``news-alone{,-negative}.npz``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from bench.evaluation import build_index, contains, load_squad, normalise
from bench.news import NewsQuestion, load_questions
from bench.scorer_archives import OUT
from index.embedder import Embedder, load_embedder
from index.reader import open_published
from qa.engine import Engine
from qa.scope import Filters, Scope

NEGATIVE_SHARE = 30  # percent of the SQuAD training questions also asked without their article


def rows_for(engine: Engine, question: str, answers: Sequence[str],
             scope: Scope | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """A question's candidate features, their labels, and whether a top-5 passage holds a
    gold answer."""
    ranked = engine.evidence(question, scope)
    if not ranked:
        return np.zeros((0, 0)), np.zeros(0, dtype=np.int8), False
    cands, rows = engine.scorer_rows(question, ranked)
    labels = np.array([contains(c.text, answers) for c in cands], dtype=np.int8)
    passage_hit = any(contains(e.candidate.stored.chunk.text[:1000], answers)
                      for e in ranked[:5])
    return rows, labels, passage_hit


def collect(engine: Engine, asked: Sequence[tuple[str, str, Sequence[str], Scope | None]],
            out: Path) -> None:
    """Ask (id, question, answers, scope) each; write the rows, labels and question ids."""
    xs, ys, groups, hits, ids = [], [], [], [], []
    began = time.perf_counter()
    for n, (ident, question, answers, scope) in enumerate(asked):
        rows, labels, hit = rows_for(engine, question, answers, scope)
        ids.append(ident)
        hits.append(hit)
        if len(labels):
            xs.append(rows)
            ys.append(labels)
            groups.append(np.full(len(labels), n, dtype=np.int32))
        if (n + 1) % 500 == 0:
            print(f"  {out.name}: {n + 1}/{len(asked)} in {time.perf_counter() - began:.0f} s",
                  flush=True)
    np.savez_compressed(out, x=np.concatenate(xs), y=np.concatenate(ys),
                        group=np.concatenate(groups), passage_hit=np.array(hits),
                        ids=np.array(ids))
    print(f"{out.name}: {len(asked)} questions, {sum(len(y) for y in ys)} candidates, "
          f"{time.perf_counter() - began:.0f} s", flush=True)


def squad_split(titles: list[str], seed: int) -> tuple[set[str], set[str]]:
    """The article titles of the train and test halves."""
    shuffled = sorted(titles)
    random.Random(seed).shuffle(shuffled)
    half = len(shuffled) // 2
    return set(shuffled[:half]), set(shuffled[half:])


def squad(path: Path, seed: int) -> None:
    articles, questions = load_squad(path)
    train, test = squad_split([a["id"] for a in articles], seed)
    index_dir, seconds = build_index(OUT / "squad", articles, embedder()) \
        if not (OUT / "squad" / "index" / "CURRENT").exists() \
        else (OUT / "squad" / "index", 0.0)
    print(f"squad index in {seconds:.0f} s", flush=True)
    engine = engine_over(index_dir)
    for name, titles in (("train", train), ("test", test)):
        asked = [(q.id, q.text, q.answers, None) for q in questions if q.article in titles]
        collect(engine, asked, OUT / f"squad-{name}.npz")
    # Questions the articles do not answer: a seeded share of the training questions asked
    # of the other training articles only (their own article filtered out). They teach
    # the model what a lexical echo without the answer looks like.
    others = {t: tuple(sorted(train - {t})) for t in train}
    chosen = [q for q in questions if q.article in train]
    chosen = random.Random(seed).sample(chosen, len(chosen) * NEGATIVE_SHARE // 100)
    collect(engine, [(q.id, q.text, q.answers, Scope(filters=Filters(article_ids=others[
        q.article]))) for q in chosen], OUT / "squad-negative.npz")
    (OUT / "squad-split.json").write_text(json.dumps({"train": sorted(train),
                                                      "test": sorted(test)}))


def news_negative(engine: Engine, pages: dict[str, str], questions: list[NewsQuestion],
                  out: Path, seed: int) -> None:
    """Questions the archive cannot answer: a seeded share of the news training questions
    asked without any article that holds a gold answer (in its title or text; ``pages``:
    ``page_texts``). Like the SQuAD ones, they teach what an echo of the question
    without the answer looks like, here in news."""
    chosen = random.Random(seed).sample(questions, len(questions) * NEGATIVE_SHARE // 100)
    asked = []
    for q in chosen:
        gold = _gold(q)
        allowed = tuple(i for i, text in pages.items() if not any(g in text for g in gold))
        asked.append((q.id, q.text, q.answers,
                      Scope(as_of=q.as_of, filters=Filters(article_ids=allowed))))
    collect(engine, asked, out)


def news_alone(engine: Engine, pages: dict[str, str], questions: list[NewsQuestion]) -> None:
    """Each news training question asked of one article alone (a scope of one id), as an
    index of one story (the seed article's) answers it: the first of its answer pages
    that holds a gold answer (``news-alone``), and the best-ranked page of the whole
    archive that holds none (``news-alone-negative``). In one article every name has
    the backing of all the top passages, which the archive's questions never show."""
    own, other = [], []
    for q in questions:
        gold = _gold(q)
        holding = [a for a in sorted(q.answer_articles)
                   if any(g in pages.get(a, "") for g in gold)]
        if holding:
            own.append((q.id, q.text, q.answers,
                        Scope(as_of=q.as_of, filters=Filters(article_ids=(holding[0],)))))
        for e in engine.evidence(q.text, Scope(as_of=q.as_of)):
            page = engine.index.catalog.article_id[e.candidate.stored.article_rowid]
            if not any(g in pages.get(page, "") for g in gold):
                other.append((q.id, q.text, q.answers,
                              Scope(as_of=q.as_of, filters=Filters(article_ids=(page,)))))
                break
    collect(engine, own, OUT / "news-alone.npz")
    collect(engine, other, OUT / "news-alone-negative.npz")


def _gold(q: NewsQuestion) -> list[str]:
    """The question's gold answers, normalised as page texts are (the empty ones left out)."""
    return [g for g in map(normalise, q.answers) if g]


def page_texts(archive: Path) -> dict[str, str]:
    """Each page's title and text, normalised as gold answers are matched, by id."""
    with gzip.open(archive, "rt", encoding="utf-8") as lines:
        return {row["id"]: normalise(f"{row.get('title', '')} {row['text']}")
                for row in map(json.loads, filter(str.strip, lines))}


def news_set(engine: Engine, questions: list[NewsQuestion], out: Path) -> None:
    """The questions asked of the engine's whole index, as of the day after each quiz."""
    collect(engine, [(q.id, q.text, q.answers, Scope(as_of=q.as_of)) for q in questions], out)


@cache
def embedder() -> Embedder:
    """The model the scorer is trained with, loaded once per run."""
    return load_embedder("all-MiniLM-L6-v2")


def engine_over(index_dir: Path) -> Engine:
    """An engine with the hand-set rules (the data must not depend on a scorer)."""
    return Engine(open_published(index_dir), embedder(), scorer=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path)
    parser.add_argument("--news", type=Path)
    parser.add_argument("--only", choices=["squad", "news-train", "news-test"])
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if args.squad and args.only in (None, "squad"):
        squad(args.squad, args.seed)
    if args.news and args.only in (None, "news-train"):
        ids = set(json.loads((OUT / "train-questions.json").read_text()))
        train = [q for q in load_questions(args.news) if q.id in ids]
        engine, pages = engine_over(OUT / "news-train-index"), page_texts(
            OUT / "train-articles.jsonl.gz")
        news_set(engine, train, OUT / "news-train.npz")
        news_negative(engine, pages, train, OUT / "news-negative.npz", args.seed)
        news_alone(engine, pages, train)
    if args.news and args.only in (None, "news-test"):
        news_set(engine_over(OUT / "news-quick-index"), load_questions(args.news, quick=True),
                 OUT / "news-test.npz")


if __name__ == "__main__":
    main()
