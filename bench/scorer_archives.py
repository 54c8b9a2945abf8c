"""The news archives the answer scorer is trained and tested on, built once.

- train: a seeded sample of the 2023-2024 questions and the pages their search retrieved
  (each question's own pages, the others' as distractors), like the quick loop is for 2025;
- test: the quick loop itself (the 2025 questions over ``quick-articles``).

No 2025 question or page is on the training side: the quick loop's pages are dropped from
the training archive. The training archive is written under bench/out (not committed).

    python -m bench.scorer_archives --news ../shared/eval/news-rtqa [--questions 1207]

All 1,207 questions of 2023-2024 by default: 8,777 pages, about 50 minutes to build
here on 2 cores (an archive of a smaller ``--questions`` is reused and grown).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path

from bench.news import QUESTIONS, QUICK_ARCHIVE, QUICK_PREFIX, archive_of, build
from index.embedder import load_embedder

OUT = Path(__file__).resolve().parent / "out" / "scorer"
TRAIN_YEARS = ("2023", "2024")


def train_questions(folder: Path, n: int, seed: int) -> list[dict]:
    """The first ``n`` of the 2023-2024 questions in a seeded order, in file order (a
    larger ``n`` keeps every question of a smaller one)."""
    rows = [json.loads(line) for line in (folder / QUESTIONS).open(encoding="utf-8")
            if line.strip()]
    train = [q for q in rows if str(q["id"]).startswith(TRAIN_YEARS)]
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    keep = set(order[:n])
    return [q for i, q in enumerate(train) if i in keep]


def quick_ids(folder: Path) -> set[str]:
    with gzip.open(folder / QUICK_ARCHIVE, "rt", encoding="utf-8") as lines:
        return {json.loads(line)["id"] for line in lines if line.strip()}


def write_train_archive(folder: Path, questions: list[dict], out: Path) -> int:
    """The pages the sampled questions retrieved, minus the quick loop's; how many."""
    wanted = {a for q in questions for a in q["retrieved_articles"]} - quick_ids(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with gzip.open(archive_of(folder), "rt", encoding="utf-8") as lines, \
            gzip.open(out, "wt", encoding="utf-8") as sink:
        for line in lines:
            if line.strip() and json.loads(line)["id"] in wanted:
                sink.write(line if line.endswith("\n") else line + "\n")
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=1207)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--only", choices=["train", "test"], default=None)
    args = parser.parse_args()
    embedder = load_embedder("all-MiniLM-L6-v2")
    if args.only in (None, "train"):
        questions = train_questions(args.news, args.questions, args.seed)
        archive = OUT / "train-articles.jsonl.gz"
        pages = write_train_archive(args.news, questions, archive)
        (OUT / "train-questions.json").write_text(json.dumps([q["id"] for q in questions]))
        print(f"train: {len(questions)} questions, {pages} pages", flush=True)
        print(build(OUT / "news-train-index", archive, embedder).summary(), flush=True)
    if args.only in (None, "test"):
        print(f"test: the {QUICK_PREFIX} quick loop", flush=True)
        print(build(OUT / "news-quick-index", archive_of(args.news, quick=True),
                    embedder).summary(), flush=True)


if __name__ == "__main__":
    main()
