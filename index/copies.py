"""Wire copies: the same story syndicated on many pages, or republished under a new
headline, found at build time so answers can be given from one copy.

Site chrome repeated on many pages (a newsletter sign-up, a cookie notice) would make
unrelated short pages of one site look alike, so paragraphs found on more than
``max(20, 0.2%)`` of the pages are left out first. Each article's remaining text becomes
a MinHash of its word 5-shingles (datasketch); locality sensitive hashing proposes
pairs, the estimated Jaccard similarity confirms them (at least ``threshold``), and
confirmed pairs are joined into groups (union-find). A group is named by its member with
the lowest row id.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # datasketch is imported where it is used: only a build pays for it
    from datasketch import MinHash

SHINGLE = 5  # words a shingle
PERMUTATIONS = 128
THRESHOLD = 0.7  # the default Jaccard similarity at which two pages are copies
MIN_WORDS = 40  # shorter texts are too small to call copies with confidence
SHINGLE_BLOCK = 4096  # shingles hashed at once: bounds the memory of one text's MinHash
BOILERPLATE_SHARE = 0.002  # a paragraph on more pages than this share is site chrome
BOILERPLATE_MIN = 20  # ... and on more than this many pages
_WORD = re.compile(r"\w+")


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.lower().split()) for p in text.split("\n") if p.strip()]


def without_chrome(texts: Sequence[str]) -> list[str]:
    """Each text without the paragraphs that many pages share (site chrome)."""
    counts: Counter[str] = Counter()
    split = [_paragraphs(t) for t in texts]
    for paragraphs in split:
        counts.update(set(paragraphs))
    cap = max(BOILERPLATE_MIN, int(BOILERPLATE_SHARE * len(texts)))
    return ["\n".join(p for p in paragraphs if counts[p] <= cap) for paragraphs in split]


def signature(text: str, seed: int = 1) -> MinHash | None:
    """The MinHash of a text's word 5-shingles, or None for a text under ``MIN_WORDS``
    shingles.

    The shingles are hashed ``SHINGLE_BLOCK`` at a time: datasketch permutes a whole
    batch at once (8 bytes x ``PERMUTATIONS`` a shingle, 6.6 GB for a 30 MB text), and
    the minimum over blocks is the minimum over all, so the signature is the same.
    """
    from datasketch import MinHash

    words = _WORD.findall(text.lower())
    count = max(0, len(words) - SHINGLE + 1)
    if count < MIN_WORDS:
        return None
    m = MinHash(num_perm=PERMUTATIONS, seed=seed)
    for start in range(0, count, SHINGLE_BLOCK):
        m.update_batch([" ".join(words[i : i + SHINGLE]).encode()
                        for i in range(start, min(start + SHINGLE_BLOCK, count))])
    return m


def copy_groups(texts: Sequence[str], threshold: float = THRESHOLD,
                seed: int = 1) -> dict[int, int]:
    """Article index -> the index naming its group, for every article that has a copy.

    Articles without copies are left out.
    """
    from datasketch import MinHashLSH

    # LSH only proposes pairs (its banding needs a threshold below ~0.95); the estimated
    # similarity of each proposed pair decides.
    lsh = MinHashLSH(threshold=min(threshold, 0.9), num_perm=PERMUTATIONS)
    hashes: dict[int, MinHash] = {}
    for i, text in enumerate(without_chrome(texts)):
        m = signature(text, seed)
        if m is None:
            continue
        hashes[i] = m
        lsh.insert(i, m)
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, m in hashes.items():
        for j in lsh.query(m):
            if j != i and m.jaccard(hashes[j]) >= threshold:
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, int] = {}
    sizes = np.bincount([root(i) for i in hashes], minlength=len(texts)) if hashes else []
    for i in hashes:
        r = root(i)
        if sizes[r] > 1:
            groups[i] = r
    return groups
