"""Benchmark: build pipeline overhead and incremental rebuild cost.

Measures, in one run and with one loaded model:
1. the pure model-encode time of exactly the texts a full build embeds;
2. the full build time (read, chunk, embed, write, publish) of the same corpus;
3. the incremental rebuild time after changing one article.

Prints a table and writes ``bench/results/index_build.{json,md}``.
Usage: python -m bench.index_build [--articles 5000] [--model all-MiniLM-L6-v2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from bench.synthetic import articles
from index.builder import Builder, read_sources
from index.chunking import CHUNK_TEMPLATE, Chunker, split_sentences
from index.embedder import load_embedder, resolve_model

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from sentence_transformers import SentenceTransformer

    embedder = load_embedder(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus"
        source.mkdir()
        items = list(articles(args.articles))
        _write(source, items)
        corpus, _ = read_sources([source])
        chunker = Chunker()
        texts = []
        for article in corpus:
            texts += [CHUNK_TEMPLATE.format(title=article.title, text=c.text)
                      for c in chunker.chunk(article)]
            texts += [article.text[s.start : s.end] for s in split_sentences(article.text)]

        # The baseline is the model's own encode over the whole list (it sorts by length
        # and batches itself): no chunking, no storage, no bookkeeping of ours.
        model = SentenceTransformer(resolve_model(args.model)[0], device="cpu",
                                    local_files_only=True)
        began = time.perf_counter()
        model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True,
                     show_progress_bar=False)
        encode = time.perf_counter() - began

        builder = Builder.with_embedder(Path(tmp) / "index", embedder)
        full = builder.build([source], full=True)
        items[len(items) // 2]["text"] += "\n\nA correction was appended to this brief."
        _write(source, items)
        incremental = builder.build([source])

    rows = {
        "articles": args.articles,
        "texts_embedded_by_full_build": full.embedded_texts,
        "pure_encode_s": round(encode, 2),
        "full_build_s": round(full.seconds, 2),
        "pipeline_overhead": round((full.seconds - encode) / encode, 4),
        "incremental_build_s": round(incremental.seconds, 2),
        "incremental_texts_embedded": incremental.embedded_texts,
        "incremental_over_full": round(incremental.seconds / full.seconds, 4),
        "model": embedder.name,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    assert full.embedded_texts == len(texts), "the baseline must encode the same texts"
    _report(rows)


def _write(source: Path, items: list[dict]) -> None:
    (source / "briefs.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")


def _report(rows: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "index_build.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "| measure | value |", "|---|---|",
        f"| articles | {rows['articles']} |",
        f"| texts embedded by a full build | {rows['texts_embedded_by_full_build']} |",
        f"| pure model encode of those texts | {rows['pure_encode_s']} s |",
        f"| full build (read, chunk, embed, write, publish) | {rows['full_build_s']} s |",
        f"| **pipeline overhead** (full − encode) / encode | **{rows['pipeline_overhead']:.1%}** "
        "(target < 25%) |",
        f"| rebuild after changing one article | {rows['incremental_build_s']} s "
        f"({rows['incremental_texts_embedded']} texts embedded) |",
        f"| **incremental / full** | **{rows['incremental_over_full']:.1%}** (target < 5%) |",
        f"| model, machine | {rows['model']}, {rows['machine']} |",
    ]
    table = "\n".join(lines)
    (RESULTS / "index_build.md").write_text("# Index build benchmark\n\n"
                                            "`python -m bench.index_build` (see its docstring)."
                                            "\n\n" + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
