"""Benchmark: our answers against BM25 and the usual LangChain recipe, same run, same sample.

Usage: python -m bench.quality --squad PATH [--sample 2000] [--seed 13]
       python -m bench.quality --news DIR [--quick] [--no-recipe] [--index-dir D]
Prints a table and writes ``bench/results/quality.{json,md}`` (SQuAD) or
``bench/results/quality_news[_quick].{json,md}`` (the news set, by its protocol; the
baselines, as in the set's README, without the date filter).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date
from pathlib import Path

from bench.baselines import recipe_chunks, run_bm25, run_recipe
from bench.evaluation import Scores, evaluate_squad, load_squad, sample
from service.server import configure_process
from service.settings import Settings

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path)
    parser.add_argument("--news", type=Path, help="the news-rtqa folder")
    parser.add_argument("--quick", action="store_true", help="news: the quick loop")
    parser.add_argument("--no-recipe", action="store_true", help="news: skip the recipe")
    parser.add_argument("--index-dir", type=Path, help="news: where our index is kept")
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    configure_process()  # timed as the service runs: one BLAS, one FAISS thread
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.news:
        news_main(args)
        return
    if not args.squad:
        parser.error("--squad or --news is required")
    args.sample = args.sample or 2000

    settings = Settings()
    embedder = settings.embedder_spec().load()
    articles, questions = load_squad(args.squad)
    chosen = sample(questions, args.sample, args.seed)

    ours = evaluate_squad(args.squad, embedder, settings.answer_config(),
                          negatives=[ROOT / "seeds"], n=args.sample, seed=args.seed,
                          chunker=settings.chunker())
    chunks = recipe_chunks(articles)
    began = time.perf_counter()
    bm25 = run_bm25(chunks, chosen)
    bm25_total = time.perf_counter() - began
    began = time.perf_counter()
    recipe = run_recipe(chunks, chosen, embedder)
    recipe_total = time.perf_counter() - began

    rows = {"ours": ours, "bm25": _row(bm25), "langchain_recipe": _row(recipe),
            "sample": args.sample, "seed": args.seed,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "baseline_totals_s": {"bm25": round(bm25_total, 1),
                                  "langchain_recipe": round(recipe_total, 1)}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(rows, indent=2) + "\n")
    table = _table(rows)
    (RESULTS / "quality.md").write_text(
        "# Answer quality benchmark\n\n`python -m bench.quality --squad "
        f"../shared/eval/squad-v1.1-dev.json --sample {args.sample} --seed {args.seed}`\n\n"
        + table + "\n")
    print(table)


def news_main(args: argparse.Namespace) -> None:
    """Ours (by the protocol, as of each quiz's next day) beside BM25 and the recipe."""
    from bench.news import archive_of, choose, evaluate_news, load_questions
    from index.readers import SourceFile, read_file

    settings = Settings()
    embedder = settings.embedder_spec().load()
    name = "news-quick" if args.quick else "news"
    index_dir = args.index_dir or settings.data_dir / "eval" / name
    ours = evaluate_news(args.news, embedder, settings.answer_config(), index_dir,
                         quick=args.quick, n=args.sample, seed=args.seed,
                         chunker=settings.chunker())
    questions = choose(load_questions(args.news, args.quick), args.sample, args.seed)
    archive = archive_of(args.news, args.quick)
    articles = [{"text": a.text} for a in read_file(SourceFile(archive, archive.name))]
    chunks = recipe_chunks(articles)
    rows = {"ours": ours, "bm25": _row(run_bm25(chunks, questions)),
            "set": name, "questions": len(questions), "seed": args.seed,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    stem = name.replace("-", "_").replace("news", "quality_news")
    if not args.no_recipe:
        began = time.perf_counter()
        rows["langchain_recipe"] = _row(run_recipe(chunks, questions, embedder))
        rows["recipe_total_s"] = round(time.perf_counter() - began, 1)
        rows["recipe_run"] = date.today().isoformat()
    else:
        _carry_recipe(RESULTS / f"{stem}.json", rows)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(rows, indent=2) + "\n")
    table = _news_table(rows)
    # The command as run, with the index folder as a placeholder (it is a local path).
    flags = "".join(flag for flag, on in ((" --quick", args.quick),
                                          (" --index-dir D", args.index_dir),
                                          (" --no-recipe", args.no_recipe)) if on)
    (RESULTS / f"{stem}.md").write_text(
        f"# Answer quality on the news set ({name})\n\n`python -m bench.quality --news "
        f"../shared/eval/news-rtqa{flags}`\n\n" + table + "\n")
    print(table)


def _carry_recipe(path: Path, rows: dict) -> None:
    """Keep the recipe's row of an earlier run on the same questions: it depends on the
    archive, the questions and the model only, and costs half an hour to measure."""
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    same = all(earlier.get(k) == rows[k] for k in ("set", "questions", "seed"))
    if same and "langchain_recipe" in earlier:
        for key in ("langchain_recipe", "recipe_total_s", "recipe_run"):
            if key in earlier:
                rows[key] = earlier[key]


def _news_table(rows: dict) -> str:
    ours = rows["ours"]
    lines = ["| system | hit@1 | hit@5 | MRR@10 | article hit@5 | answer accuracy | "
             "abstention | p50 ms |", "|---|---|---|---|---|---|---|---|",
             f"| **ours** (as of the day after each quiz) | {ours['hit1']:.3f} | "
             f"{ours['hit5']:.3f} | {ours['mrr10']:.3f} | {ours['article_hit5']:.3f} | "
             f"{ours['answer_accuracy']:.3f} | {ours['abstention_rate']:.1%} | "
             f"{ours['latency_p50_ms']:.1f} |"]
    baselines = [("BM25 (bm25s), 1000/200 chunks, no date filter", rows["bm25"])]
    if "langchain_recipe" in rows:
        baselines.append(("LangChain recipe (MiniLM + FAISS), no date filter",
                          rows["langchain_recipe"]))
    for name, r in baselines:
        lines.append(f"| {name} | {r['hit@1']:.3f} | {r['hit@5']:.3f} | {r['mrr@10']:.3f} | "
                     f"— | {r['answer_accuracy']:.3f} | {r['abstention_rate']:.1%} | "
                     f"{r['latency_p50_ms']:.1f} |")
    lines += ["", "| ratio (ours / baseline) | hit@1 | hit@5 | MRR@10 | answer accuracy |",
              "|---|---|---|---|---|"]
    for name, r in baselines:
        pairs = (("hit1", "hit@1"), ("hit5", "hit@5"), ("mrr10", "mrr@10"),
                 ("answer_accuracy", "answer_accuracy"))
        lines.append(f"| vs {name.split(',')[0]} | " + " | ".join(
            f"{ours[a] / r[b]:.2f}x" if r[b] else "—" for a, b in pairs) + " |")
    lines += ["", f"{rows['questions']} questions, index {ours['index_version']} "
              f"({ours['index_articles']} pages), {rows['machine']}."]
    if "langchain_recipe" in rows and rows.get("recipe_run") != date.today().isoformat():
        lines.append(f"The recipe's row is carried from its run of {rows.get('recipe_run')} "
                     "(same archive, questions and model; `--no-recipe` skips rerunning it).")
    return "\n".join(lines)


def _row(s: Scores) -> dict:
    return {"hit@1": round(s.hit1, 4), "hit@5": round(s.hit5, 4), "mrr@10": round(s.mrr10, 4),
            "answer_accuracy": round(s.answer_accuracy, 4),
            "abstention_rate": round(s.abstention_rate, 4),
            "latency_p50_ms": round(s.latency_p50_ms, 2),
            "latency_p95_ms": round(s.latency_p95_ms, 2)}


def _table(rows: dict) -> str:
    ours, bm25, recipe = rows["ours"], rows["bm25"], rows["langchain_recipe"]
    lines = ["| system | hit@1 | hit@5 | MRR@10 | answer accuracy | abstention | p50 ms |",
             "|---|---|---|---|---|---|---|"]
    for name, r in (("**ours**", ours), ("BM25 (bm25s), 1000/200 chunks", bm25),
                    ("LangChain recipe (MiniLM + FAISS)", recipe)):
        lines.append(f"| {name} | {r['hit@1']:.3f} | {r['hit@5']:.3f} | {r['mrr@10']:.3f} | "
                     f"{r['answer_accuracy']:.3f} | {r['abstention_rate']:.1%} | "
                     f"{r['latency_p50_ms']:.1f} |")
    lines += ["", "| ratio (ours / baseline) | hit@1 | hit@5 | MRR@10 | answer accuracy |",
              "|---|---|---|---|---|"]
    for name, r in (("vs BM25", bm25), ("vs LangChain recipe", recipe)):
        lines.append("| " + name + " | " + " | ".join(
            f"{ours[k] / r[k]:.2f}x" for k in ("hit@1", "hit@5", "mrr@10", "answer_accuracy"))
            + " |")
    lines += ["", "| ours | value |", "|---|---|",
              f"| query p50 / p95 | {ours['latency_p50_ms']} / {ours['latency_p95_ms']} ms |",
              f"| one query embedding + one FAISS search (p50) | "
              f"{ours['search_floor_p50_ms']} ms |",
              f"| **query p50 / that floor** | **{ours['latency_over_floor']}x** (target < 2x) |",
              f"| index build (48 articles) | {ours['index_build_s']} s |",
              f"| false answers, SQuAD questions against the seed article | "
              f"{ours['false_answer_rate_wrong_corpus']:.1%} (target ≤ 10%) |",
              f"| abstention on answerable questions | {ours['abstention_rate']:.1%} "
              "(target < 3%) |",
              f"| confidence threshold | {ours['min_confidence']} |",
              f"| machine | {rows['machine']} |"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
