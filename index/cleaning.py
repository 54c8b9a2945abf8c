"""General rules that strip a news site's chrome from an article's lines.

The rules work on the shape of the text, not on line numbers:

* **Head appeals**: short lines before the title that ask for support
  ("Support The Moscow Times!", "Contribute today", "Subscribe now").
* **Tag lines**: "Read more about: ...", "Tags: ...", "Topics: ...", "Filed under: ...".
* **Teaser blocks**: a heading line such as "Read more", "Related", "Read also" or
  "You may also like" starts a block of links to other articles; it runs to the end.
* **Tail appeals**: a run of at most a few final paragraphs that opens with an appeal
  ("We need your help", "Support ...", "Please donate") and mentions donating,
  contributing or subscribing.
"""

from __future__ import annotations

import re

_APPEAL = re.compile(
    r"\b(support|donat\w*|contribut\w*|subscri\w*|your help|become a (member|patron))\b",
    re.IGNORECASE,
)
_APPEAL_OPENER = re.compile(
    r"^\s*(we need your help|support\b|please (support|donate|consider)|donate\b|"
    r"your (donation|support|contribution)|become a (member|patron)|subscribe\b|"
    r"help us\b|if you (value|like|appreciate))",
    re.IGNORECASE,
)
_MONEY_WORDS = re.compile(r"\b(donat\w*|contribut\w*|subscri\w*|membership|patron)\b", re.I)
_TAG_LINE = re.compile(r"^\s*(read more about|tags|topics|filed under|more about)\s*:", re.I)
_TEASER_HEADINGS = {
    "read more",
    "read also",
    "related",
    "related articles",
    "related stories",
    "related news",
    "more on this topic",
    "more stories",
    "you may also like",
    "you might also like",
    "recommended",
    "most read",
}
# A head appeal is a banner, not a sentence of the story.
_HEAD_APPEAL_MAX_CHARS = 80
# A tail appeal is a handful of paragraphs; longer runs are more likely the story itself.
_TAIL_APPEAL_MAX_PARAGRAPHS = 5


def drop_head_appeals(lines: list[str]) -> list[str]:
    """Drop banner lines asking for support that stand before the title."""
    start = 0
    for start, line in enumerate(lines):  # noqa: B007 - the index is the result
        text = line.strip()
        if text and not (len(text) <= _HEAD_APPEAL_MAX_CHARS and _APPEAL.search(text)):
            break
    else:
        return []
    return lines[start:]


def is_teaser_heading(line: str) -> bool:
    """True for a heading that introduces links to other articles."""
    return line.strip().rstrip(":").casefold() in _TEASER_HEADINGS


def clean_paragraphs(paragraphs: list[str]) -> list[str]:
    """Apply the tag-line, teaser-block and tail-appeal rules to body paragraphs."""
    kept: list[str] = []
    for paragraph in paragraphs:
        if is_teaser_heading(paragraph):
            break
        if _TAG_LINE.match(paragraph):
            continue
        kept.append(paragraph)
    return _drop_tail_appeal(kept)


def _drop_tail_appeal(paragraphs: list[str]) -> list[str]:
    first_candidate = max(0, len(paragraphs) - _TAIL_APPEAL_MAX_PARAGRAPHS)
    for i in range(first_candidate, len(paragraphs)):
        if _APPEAL_OPENER.match(paragraphs[i]) and any(
            _MONEY_WORDS.search(p) for p in paragraphs[i:]
        ):
            return paragraphs[:i]
    return paragraphs
