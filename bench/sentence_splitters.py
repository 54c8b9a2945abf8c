"""Benchmark: our rule-based sentence splitter against sentence-splitting libraries.

A sentence is the unit an answer is cut from, so a splitter is good when a gold answer
sits inside one sentence (a boundary through an answer loses it) and sentences stay short
(a long sentence is a long answer). Measured over SQuAD dev paragraphs (gold answer
offsets) and the news quick-loop pages (every occurrence of a quiz answer in a page that
contains it), with the splitting time per megabyte.

    python -m bench.sentence_splitters --squad SQUAD_JSON --news NEWS_RTQA_DIR

Libraries (pysbd, blingfire, syntok) are measured only if installed; none is a dependency.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from index.chunking import split_sentences

Splitter = Callable[[str], list[tuple[int, int]]]
RESULTS = Path(__file__).parent / "results"


def _ours(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in split_sentences(text)]


def _candidates() -> dict[str, Splitter]:
    found: dict[str, Splitter] = {"ours (rules-2)": _ours}
    try:
        import pysbd

        seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
        found["pysbd 0.3"] = lambda t: [(s.start, s.end) for s in seg.segment(t)]
    except ImportError:
        pass
    try:
        import blingfire

        found["blingfire"] = lambda t: list(blingfire.text_to_sentences_and_offsets(t)[1])
    except ImportError:
        pass
    try:
        from syntok import segmenter

        def syntok_split(text: str) -> list[tuple[int, int]]:
            return [(s[0].offset, s[-1].offset + len(s[-1].value))
                    for para in segmenter.analyze(text) for s in para if s]

        found["syntok"] = syntok_split
    except ImportError:
        pass
    return found


@dataclass
class Case:
    """A text and the answer spans in it that one sentence should hold."""

    text: str
    answers: list[tuple[int, int]]


def squad_cases(path: Path) -> Iterator[Case]:
    """Every SQuAD dev paragraph with its gold answer offsets."""
    for article in json.loads(path.read_text())["data"]:
        for para in article["paragraphs"]:
            spans = {(a["answer_start"], a["answer_start"] + len(a["text"]))
                     for qa in para["qas"] for a in qa["answers"]}
            yield Case(para["context"], sorted(spans))


def news_cases(folder: Path, limit: int) -> Iterator[Case]:
    """Quick-loop pages that hold a 2025 quiz answer, with every occurrence of it."""
    wanted: dict[str, set[str]] = {}
    for line in (folder / "questions.jsonl").open():
        q = json.loads(line)
        if q["id"].startswith("2025"):
            for article_id in q["answer_articles"]:
                wanted.setdefault(article_id, set()).update(q["answers"])
    count = 0
    with gzip.open(folder / "quick-articles.jsonl.gz", "rt") as lines:
        for line in lines:
            page = json.loads(line)
            answers = wanted.get(page["id"])
            if not answers:
                continue
            spans = sorted({(m.start(), m.end()) for a in answers
                            for m in re.finditer(re.escape(a), page["text"])})
            if spans:
                yield Case(page["text"], spans)
                count += 1
                if count >= limit:
                    return


@dataclass
class Row:
    """One splitter on one set."""

    splitter: str
    dataset: str
    answers_in_one_sentence: float
    sentences_per_kchar: float
    over_400_chars: float
    ms_per_mb: float


def measure(name: str, split: Splitter, dataset: str, cases: list[Case]) -> Row:
    """Split every text once; score answer containment, sentence length and speed."""
    held = total = sentences = long = chars = 0
    elapsed = 0.0
    for case in cases:
        began = time.perf_counter()
        spans = split(case.text)
        elapsed += time.perf_counter() - began
        chars += len(case.text)
        sentences += len(spans)
        long += sum(1 for s, e in spans if e - s > 400)
        for a_start, a_end in case.answers:
            total += 1
            held += any(s <= a_start and a_end <= e for s, e in spans)
    return Row(name, dataset, held / total, 1000 * sentences / chars,
               long / max(sentences, 1), 1000 * elapsed / (chars / 1e6))


def main() -> None:
    """Run every installed splitter over both sets and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True)
    parser.add_argument("--news", type=Path, required=True)
    parser.add_argument("--news-pages", type=int, default=1000)
    args = parser.parse_args()
    sets = {"SQuAD dev": list(squad_cases(args.squad)),
            "news quick loop": list(news_cases(args.news, args.news_pages))}
    rows = [measure(name, split, dataset, cases)
            for dataset, cases in sets.items() for name, split in _candidates().items()]
    lines = ["# Sentence splitter benchmark", "",
             f"`python -m bench.sentence_splitters` ({platform.machine()}; "
             + ", ".join(f"{k}: {len(v)} texts, {sum(len(c.answers) for c in v)} answers"
                         for k, v in sets.items()) + ")", "",
             "| splitter | set | answers inside one sentence | sentences / 1k chars "
             "| sentences > 400 chars | ms / MB |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.splitter} | {r.dataset} | {r.answers_in_one_sentence:.4f} | "
              f"{r.sentences_per_kchar:.2f} | {r.over_400_chars:.2%} | {r.ms_per_mb:.0f} |"
              for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sentence_splitters.md").write_text(text)
    (RESULTS / "sentence_splitters.json").write_text(
        json.dumps([asdict(r) for r in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
