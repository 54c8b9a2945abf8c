"""The two baselines our answers are compared with, on the same chunks and questions.

1. BM25 (bm25s) over ``RecursiveCharacterTextSplitter(1000, 200)`` chunks; the answer is
   the sentence of the top chunk with the most query-term overlap.
2. The usual LangChain recipe: the same chunks, all-MiniLM-L6-v2, FAISS flat inner
   product; the answer is the sentence of the top chunk most similar to the question.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

import bm25s
import faiss
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from bench.evaluation import Question, Scores, score_ranked
from index.chunking import split_sentences
from index.embedder import Embedder
from index.terms import STOPWORDS

_WORD = re.compile(r"\w+")


def recipe_chunks(articles: Sequence[dict]) -> list[str]:
    """The recipe's chunks: RecursiveCharacterTextSplitter(1000, 200), default separators."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    return [c for a in articles for c in splitter.split_text(a["text"])]


def _sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)] or [text]


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


def run_bm25(chunks: list[str], questions: Sequence[Question]) -> Scores:
    """Baseline 1: BM25 retrieval, best-overlap sentence of the top chunk."""
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(chunks, stopwords="en", show_progress=False),
                    show_progress=False)
    ranked, answers, latencies = [], [], []
    for q in questions:
        began = time.perf_counter()
        ids, _ = retriever.retrieve(bm25s.tokenize([q.text], stopwords="en",
                                                   show_progress=False),
                                    k=min(10, len(chunks)), show_progress=False)
        texts = [chunks[i] for i in ids[0]]
        words = _content_words(q.text)
        answers.append(max(_sentences(texts[0]), key=lambda s: len(words & _content_words(s))))
        latencies.append(time.perf_counter() - began)
        ranked.append(texts)
    return score_ranked(ranked, answers, [q.answers for q in questions], latencies,
                        [False] * len(questions))


def run_recipe(chunks: list[str], questions: Sequence[Question], embedder: Embedder) -> Scores:
    """Baseline 2: dense retrieval with FAISS, most similar sentence of the top chunk."""
    index = faiss.IndexFlatIP(embedder.dimension)
    index.add(embedder.embed(chunks))
    ranked, answers, latencies = [], [], []
    for q in questions:
        began = time.perf_counter()
        vector = embedder.embed_one(q.text)
        _, ids = index.search(vector.reshape(1, -1), 10)
        texts = [chunks[i] for i in ids[0] if i >= 0]
        sentences = _sentences(texts[0])
        sims = embedder.embed(sentences) @ vector
        answers.append(sentences[int(np.argmax(sims))])
        latencies.append(time.perf_counter() - began)
        ranked.append(texts)
    return score_ranked(ranked, answers, [q.answers for q in questions], latencies,
                        [False] * len(questions))
