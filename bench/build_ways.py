"""Benchmark: three ways to build an index of the same news pages, in one run.

Over the first ``--pages`` pages of the news-rtqa archive, one after the other on the
same machine:

1. ``two passes``: the service's build with sentence vectors embedded on their own
   (``standalone``, the default before the one-pass build) and ONNX Runtime fp32;
2. ``one pass``: today's default (sentence vectors pooled from the chunk pass's token
   states, ``pooled-1``), same backend;
3. ``LangChain recipe``: ``RecursiveCharacterTextSplitter(1000, 200)``, the
   sentence-transformers model on torch, a FAISS flat index: chunks only, no sentences,
   no lexical index, no offsets.

It prints the build seconds of each and their ratios, the texts and model tokens each
embedded, and writes ``bench/results/build_ways.{md,json}``.

    python -m bench.build_ways --news NEWS_RTQA_DIR [--pages 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from bench.archive import load_pages, write_gz
from bench.baselines import recipe_chunks
from index.builder import Builder
from index.chunking import CHUNK_TEMPLATE, Chunker
from index.embedder import EmbedderSpec, resolve_model
from index.pooling import POOLED, STANDALONE
from index.records import Article

RESULTS = Path(__file__).parent / "results"


def service_build(pages_file: Path, workdir: Path, sentence_vectors: str) -> dict:
    """The service's full build of the pages with one sentence-vector method."""
    embedder = EmbedderSpec().load()
    builder = Builder.with_embedder(workdir / sentence_vectors, embedder,
                                    sentence_vectors=sentence_vectors)
    report = builder.build([pages_file], full=True)
    return {"seconds": round(report.seconds, 1), "embed_seconds": round(report.embed_seconds, 1),
            "texts_embedded": report.embedded_texts, "sentences_pooled": report.pooled_texts,
            "repeats_shared": report.repeated_texts}


def langchain_build(pages: list[dict]) -> dict:
    """The recipe: split, embed every chunk with sentence-transformers (torch), add them
    to a flat inner-product index. Timed from the pages in memory to the filled index;
    the model's loading is timed apart, as the service's is not counted either."""
    import faiss
    from sentence_transformers import SentenceTransformer

    began = time.perf_counter()
    model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2")[0], device="cpu")
    load_seconds = time.perf_counter() - began
    began = time.perf_counter()
    chunks = recipe_chunks(pages)
    vectors = model.encode(chunks, batch_size=32, normalize_embeddings=True,
                           convert_to_numpy=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    seconds = time.perf_counter() - began
    tokens = sum(min(len(ids), model.max_seq_length)
                 for ids in model.tokenizer(chunks, add_special_tokens=True)["input_ids"])
    return {"seconds": round(seconds, 1), "model_load_seconds": round(load_seconds, 1),
            "texts_embedded": len(chunks), "model_tokens": tokens}


def model_tokens(pages: list[dict]) -> dict[str, int]:
    """How many tokens each way's chunks put through the model (each text cut at the
    model's 256-token window), counted with the model's tokenizer: the work the builds'
    seconds are for."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(resolve_model("all-MiniLM-L6-v2")[0])
                                        / "tokenizer.json"))
    tokenizer.no_truncation()  # the file cuts at 128; the model reads 256
    tokenizer.no_padding()  # and pads every text to 128
    chunker = Chunker()
    ours = [CHUNK_TEMPLATE.format(title=p.get("title") or "", text=c.text) for p in pages
            for c in chunker.chunk(Article(id=p["id"], title=p.get("title") or "",
                                           text=p["text"]))]
    recipe = recipe_chunks(pages)

    def count(texts: list[str]) -> int:
        return sum(min(len(e.ids), 256) for e in tokenizer.encode_batch(texts))

    return {"service_chunks": len(ours), "service_chunk_tokens": count(ours),
            "recipe_chunks": len(recipe), "recipe_chunk_tokens": count(recipe)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=Path, required=True)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--tokens-only", action="store_true",
                        help="only count the model tokens, into the last run's results")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    pages = load_pages(args.news, True, args.pages)
    if args.tokens_only:
        res = json.loads((RESULTS / "build_ways.json").read_text())
        res["model_tokens"] = model_tokens(pages)
        write(res, args)
        return
    load = os.getloadavg()
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        pages_file = Path(tmp) / "pages.jsonl.gz"
        write_gz(pages_file, pages)
        # The recipe first and the slowest last, so neither is favoured by a warm cache.
        rows["LangChain recipe"] = langchain_build(pages)
        print("LangChain recipe", rows["LangChain recipe"], flush=True)
        rows["one pass (default)"] = service_build(pages_file, Path(tmp), POOLED)
        print("one pass", rows["one pass (default)"], flush=True)
        rows["two passes (before)"] = service_build(pages_file, Path(tmp), STANDALONE)
        print("two passes", rows["two passes (before)"], flush=True)
    recipe = rows["LangChain recipe"]["seconds"]
    for row in rows.values():
        row["vs_recipe"] = round(row["seconds"] / recipe, 2)
    res = {"pages": len(pages), "chars": sum(len(p["text"]) for p in pages),
           "machine": f"{platform.machine()}, {os.cpu_count()} cores",
           "load_average_at_start": [round(x, 2) for x in load],
           "load_average_at_end": [round(x, 2) for x in os.getloadavg()], "rows": rows,
           "model_tokens": model_tokens(pages)}
    write(res, args)


def write(res: dict, args: argparse.Namespace) -> None:
    """Print the table and write the results."""
    table = _table(res)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "build_ways.json").write_text(json.dumps(res, indent=2) + "\n")
    (RESULTS / "build_ways.md").write_text(
        "# Three ways to build the same pages\n\n"
        f"`python -m bench.build_ways --pages {args.pages}` ({res['machine']}; one run, "
        f"load average {res['load_average_at_start'][0]} at start, "
        f"{res['load_average_at_end'][0]} at end; {res['pages']} pages, "
        f"{res['chars'] / 1e6:.1f} M characters)\n\n" + table + "\n\n" + _tokens(res) + "\n")


def _tokens(res: dict) -> str:
    t = res.get("model_tokens")
    if not t:
        return ""
    return (f"Model tokens of the chunks: the service {t['service_chunk_tokens']:,} in "
            f"{t['service_chunks']:,} chunks (800/160 characters, the title before each), "
            f"the recipe {t['recipe_chunk_tokens']:,} in {t['recipe_chunks']:,} "
            f"(1000/200): {t['service_chunk_tokens'] / t['recipe_chunk_tokens']:.2f}x.")


def _table(res: dict) -> str:
    lines = ["| build | seconds | vs LangChain recipe | texts embedded | notes |",
             "|---|---|---|---|---|"]
    for name, row in res["rows"].items():
        if "model_tokens" in row:
            note = f"{row['model_tokens']:,} model tokens; model load {row['model_load_seconds']} s"
        else:
            note = (f"{row['sentences_pooled']:,} sentences pooled, "
                    f"{row['repeats_shared']:,} repeats shared; "
                    f"{row['embed_seconds']} s in the model")
        lines.append(f"| {name} | {row['seconds']} | {row['vs_recipe']}x | "
                     f"{row['texts_embedded']:,} | {note} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
