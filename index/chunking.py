"""Cut article text into chunks and sentences, each with exact offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.records import Article, Chunk, Span

# Words that end in a full stop without ending a sentence ("Aug. 15", "Dr. Smith").
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st jr sr gen col lt sgt capt gov sen rep rev hon pres
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    vs etc e.g i.e inc corp ltd co dept univ approx est fig al u.s u.k u.n""".split()
)
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+)|\n+")
# Abbreviations that end a sentence unless a number follows ("Red No. 3", "Vol. 2").
_BEFORE_NUMBER = frozenset("no nos vol vols art ch pp op".split())
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")
# Recorded in manifests: change it whenever split_sentences would cut text differently,
# so an incremental build never reuses sentence vectors for other spans.
SENTENCE_SPLITTER = "rules-2"
# The text embedded for a chunk (its title gives a chunk the story's subject).
CHUNK_TEMPLATE = "{title}\n{text}"


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Split ``text[start:end]`` into sentence spans (absolute offsets, trimmed of space).

    A full stop after a known abbreviation or a single capital initial does not end a
    sentence, nor does one followed by a lower-case word; paragraph breaks always do.
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    begin = start
    for match in _BOUNDARY.finditer(text, start, end):
        if match.group().startswith("\n") or _ends_sentence(text, match.start(), match.end()):
            _add_trimmed(spans, text, begin, match.end())
            begin = match.end()
    _add_trimmed(spans, text, begin, end)
    return spans


def _ends_sentence(text: str, punct_start: int, punct_end: int) -> bool:
    following = text[punct_end : punct_end + 3].lstrip()
    if following and following[0].islower():
        return False
    if text[punct_start] != ".":
        return True
    word = _WORD_BEFORE.search(text, max(0, punct_start - 12), punct_start + 1)
    if word is None:
        return True
    token = word.group(1).lower()
    if token in _BEFORE_NUMBER and following[:1].isdigit():
        return False
    return not (token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()))


def _add_trimmed(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Span(start, end))


@dataclass(frozen=True)
class ChunkerConfig:
    """How articles are cut into chunks; recorded in the manifest."""

    chunk_size: int = 800
    chunk_overlap: int = 160


class Chunker:
    """Sentence-aware chunking with langchain's recursive splitter and exact offsets."""

    def __init__(self, config: ChunkerConfig | None = None) -> None:
        self.config = config or ChunkerConfig()
        # Imported here: langchain takes half a second to import, and most
        # commands (ask, status, serve) never chunk anything.
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=self.config.chunk_size,
            chunk_overlap=self.config.chunk_overlap,
            # Paragraphs first, then lines, then sentence ends, then words.
            separators=["\n\n", "\n", r"(?<=[.!?”\"])\s+", " ", ""],
            is_separator_regex=True,
            keep_separator="end",
            strip_whitespace=True,
        )

    def chunk(self, article: Article) -> list[Chunk]:
        """Cut one article into chunks whose ``text == article.text[start:end]``."""
        chunks: list[Chunk] = []
        cursor = 0
        for piece in self._splitter.split_text(article.text):
            start = article.text.find(piece, cursor)
            if start < 0:  # the splitter never rewrites text; refuse if it ever does
                raise ValueError(f"chunk not found in article {article.id!r}")
            end = start + len(piece)
            chunks.append(Chunk(f"{article.id}#{len(chunks)}", article.id, len(chunks),
                                start, end, piece))
            cursor = start + 1
        return chunks
