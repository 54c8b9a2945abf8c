"""Benchmark: cheaper ways to get sentence evidence, against embedding every sentence.

A build embeds every chunk and every sentence, so the sentences cost about half of a
build's model time. The alternatives measured here, on SQuAD dev paragraphs (tuning seed),
each in the same run as today's recipe:

1. **contextual sentence vectors**: one model call per chunk; a sentence's vector is the
   mean of the chunk's token states inside the sentence (no sentence is embedded);
2. **chunk vectors from sentences**: embed only sentences; a chunk's vector is the mean of
   its sentences' vectors (no chunk is embedded);
3. **sentences at query time**: embed the sentences of the top passages per question
   (nothing stored; costs model time on every question).

Measured: how often the best sentence of the gold paragraph by cosine holds the answer
(sentence pick), how often the gold paragraph is the best of all sampled paragraphs by
cosine (passage pick), and the model time each needs.

    python -m bench.sentence_evidence --squad SQUAD_JSON [--paragraphs 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

import numpy as np

from index.chunking import CHUNK_TEMPLATE, split_sentences
from index.embedder import EmbedderSpec, normalise
from index.onnx_embedder import OnnxEmbedder
from index.pooling import pool

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    """Run the comparison and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True)
    parser.add_argument("--paragraphs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = EmbedderSpec(backend="onnx-fp32").load()
    assert isinstance(embedder, OnnxEmbedder)
    data = json.loads(args.squad.read_text())["data"]
    paragraphs = [(a["title"].replace("_", " "), p) for a in data for p in a["paragraphs"]]
    paragraphs = random.Random(args.seed).sample(paragraphs, args.paragraphs)

    chunk_texts = [CHUNK_TEMPLATE.format(title=t, text=p["context"]) for t, p in paragraphs]
    began = time.perf_counter()
    chunk_vectors = embedder.embed(chunk_texts)
    chunk_seconds = time.perf_counter() - began
    spans = [split_sentences(p["context"]) for _, p in paragraphs]
    sentence_texts = [[p["context"][s.start : s.end] for s in ss]
                      for (_, p), ss in zip(paragraphs, spans, strict=True)]
    began = time.perf_counter()
    flat = embedder.embed([t for ts in sentence_texts for t in ts])
    sentence_seconds = time.perf_counter() - began
    sentence_vectors, at = [], 0
    for ts in sentence_texts:
        sentence_vectors.append(flat[at : at + len(ts)])
        at += len(ts)

    began = time.perf_counter()
    contextual = [_contextual(embedder, text, len(title) + 1, ss)
                  for (title, _), text, ss in zip(paragraphs, chunk_texts, spans, strict=True)]
    contextual_seconds = time.perf_counter() - began
    means = normalise(np.vstack([v.mean(axis=0) for v in sentence_vectors]))

    picks = {"every sentence embedded (today)": 0, "contextual sentence vectors": 0}
    passage = {"chunk embedded (today)": 0, "mean of sentence vectors": 0}
    n = 0
    for i, (_, p) in enumerate(paragraphs):
        for qa in p["qas"]:
            answer = qa["answers"][0]
            a0, a1 = answer["answer_start"], answer["answer_start"] + len(answer["text"])
            gold = {j for j, s in enumerate(spans[i]) if s.start <= a0 and a1 <= s.end}
            if not gold:
                continue
            n += 1
            q = embedder.embed_one(qa["question"])
            picks["every sentence embedded (today)"] += int(
                np.argmax(sentence_vectors[i] @ q) in gold)
            picks["contextual sentence vectors"] += int(np.argmax(contextual[i] @ q) in gold)
            passage["chunk embedded (today)"] += int(np.argmax(chunk_vectors @ q) == i)
            passage["mean of sentence vectors"] += int(np.argmax(means @ q) == i)
    per_sentence_ms = 1000 * sentence_seconds / len(flat)
    avg_sentences = len(flat) / len(paragraphs)
    rows = {
        "sentence pick": {k: v / n for k, v in picks.items()},
        "passage pick": {k: v / n for k, v in passage.items()},
        "model seconds": {"chunks": chunk_seconds, "sentences": sentence_seconds,
                          "chunks with token states (contextual)": contextual_seconds},
        "query-time sentences of 3 passages, ms per question":
            3 * avg_sentences * per_sentence_ms,
        "questions": n, "paragraphs": len(paragraphs),
    }
    lines = ["# Sentence evidence benchmark", "",
             f"`python -m bench.sentence_evidence --paragraphs {len(paragraphs)} --seed "
             f"{args.seed}` ({platform.machine()}, {os.cpu_count()} cores; onnx-fp32; "
             f"{n} questions)", "", "| option | sentence pick | passage pick | model time |",
             "|---|---|---|---|",
             f"| today: embed every chunk and sentence | "
             f"{rows['sentence pick']['every sentence embedded (today)']:.3f} | "
             f"{rows['passage pick']['chunk embedded (today)']:.3f} | "
             f"{chunk_seconds + sentence_seconds:.1f} s |",
             f"| contextual sentence vectors (chunks only) | "
             f"{rows['sentence pick']['contextual sentence vectors']:.3f} | same as today | "
             f"{contextual_seconds:.1f} s |",
             f"| chunk vectors from sentences (sentences only) | same as today | "
             f"{rows['passage pick']['mean of sentence vectors']:.3f} | "
             f"{sentence_seconds:.1f} s |",
             f"| sentences of the top 3 passages at query time | same as today | same | "
             f"+{rows['query-time sentences of 3 passages, ms per question']:.0f} ms "
             "per question |"]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sentence_evidence.md").write_text(text)
    (RESULTS / "sentence_evidence.json").write_text(json.dumps(rows, indent=2) + "\n")


def _contextual(embedder: OnnxEmbedder, text: str, offset: int, spans) -> np.ndarray:
    """Sentence vectors pooled from one pass over the chunk: token states per sentence."""
    states = embedder.token_states([text])[0]
    pooled = [pool(states, span.start + offset, span.end + offset) for span in spans]
    return normalise(np.vstack([np.zeros(states.states.shape[1]) if v is None else v
                                for v in pooled]))


if __name__ == "__main__":
    main()
