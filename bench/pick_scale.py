"""Does the answer scorer cost more on a larger archive? Its step, per archive size.

The step that picks the answer sentence works on a fixed number of candidates (the
sentences of the top 5 passages) and passages (the top 20), whatever the archive's size;
what could grow with the archive is reading their stored readings (memory-mapped rows,
colder in a larger table) and the copy counts. This asks the news questions of each
archive the scorer was built on, with the learned scorer and with the hand-set rules,
and times the step (``PickTimer``) and the whole answer, in process:

- the 2025 quick loop (3,338 pages), its 386 questions;
- the 2023-2024 training archive (8,777 pages, ``bench.scorer_archives``), its 1,207
  questions (timing only: the scorer was trained on them, so no accuracy is reported);
- with ``--full DIR``, the index of the whole archive (20,189 pages: ``qa index build
  articles.jsonl.gz --index-dir DIR``), all 1,593 questions.

    python -m bench.pick_scale --news ../shared/eval/news-rtqa [--full DIR]

writes bench/results/pick_scale.{md,json}. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bench.news import ask_all, load_questions
from bench.scorer_archives import OUT
from bench.scorer_eval import RESULTS, systems
from service.server import configure_process

KEYS = ("pages", "chunks", "sentences", "stored_readings", "questions", "rules_pick_p50_ms",
        "scorer_pick_p50_ms", "added_ms", "rules_p50_ms", "scorer_p50_ms")


def measure(name: str, index_dir: Path, questions: list) -> dict:
    """Both systems over one archive: the pick step's and the answer's p50."""
    out: dict = {"archive": name, "questions": len(questions)}
    for _, engine, timer in systems(index_dir):
        system = "scorer" if engine.scorer is not None else "rules"
        m = engine.index.manifest
        out.update(pages=m.articles, chunks=m.chunks, sentences=m.sentences,
                   stored_readings=engine.index.readings is not None)
        _, latencies = ask_all(engine, questions)
        out[f"{system}_pick_p50_ms"] = timer.p50_ms()
        out[f"{system}_p50_ms"] = round(float(np.median(latencies)) * 1000, 1)
    out["added_ms"] = round(out["scorer_pick_p50_ms"] - out["rules_pick_p50_ms"], 2)
    return out


def cell(value) -> str:
    """A table cell: yes/no, a count with thousands commas, or the value."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,}" if isinstance(value, int) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=Path, required=True)
    parser.add_argument("--full", type=Path, metavar="DIR",
                        help="an index of the whole archive, asked all its questions")
    args = parser.parse_args()
    configure_process()  # timed as the service runs: one BLAS, one FAISS thread
    ids = set(json.loads((OUT / "train-questions.json").read_text()))
    rows = [measure("2025 quick loop", OUT / "news-quick-index",
                    load_questions(args.news, quick=True)),
            measure("2023-2024 training archive", OUT / "news-train-index",
                    [q for q in load_questions(args.news) if q.id in ids])]
    if args.full:
        rows.append(measure("the news archive (--full)", args.full,
                            load_questions(args.news)))
    lines = ["| archive | " + " | ".join(KEYS) + " |", "|---|" + "---|" * len(KEYS)]
    lines += [f"| {r['archive']} | " + " | ".join(map(cell, (r[k] for k in KEYS))) + " |"
              for r in rows]
    text = "\n".join(lines)
    print(text)
    (RESULTS / "pick_scale.json").write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    (RESULTS / "pick_scale.md").write_text(
        "# The answer scorer's step by archive size\n\n`python -m bench.pick_scale` (see "
        "its docstring), in process, one run. `added_ms`: the scorer's pick step less "
        "the rules' (p50).\n\n" + text + "\n")


if __name__ == "__main__":
    main()
