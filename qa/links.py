"""Links that open an article at the quoted sentence: URL Fragment Text Directives
(``#:~:text=start,end``), which browsers use to scroll to and highlight the text."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

WORDS_AT_EACH_END = 5  # a long quote is matched by its first and last words
_SHORT = 2 * WORDS_AT_EACH_END + 2


def _encode(text: str) -> str:
    # Every character the directive's syntax uses (&, ',', '-') must be percent-encoded;
    # quote() leaves '-' alone, the spec does not.
    return quote(text, safe="").replace("-", "%2D")


def fragment_for(quote_text: str) -> str:
    """The ``:~:text=`` directive matching a quote (whitespace runs as single spaces)."""
    words = quote_text.split()
    if not words:
        return ""
    if len(words) <= _SHORT:
        return ":~:text=" + _encode(" ".join(words))
    start = " ".join(words[:WORDS_AT_EACH_END])
    end = " ".join(words[-WORDS_AT_EACH_END:])
    return f":~:text={_encode(start)},{_encode(end)}"


def sentence_link(url: str | None, quote_text: str) -> str | None:
    """The article URL with a text fragment for the quote (an existing fragment is
    replaced); None when there is no http(s) URL."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    directive = fragment_for(quote_text)
    return urlunsplit(parts._replace(fragment=directive)) if directive else url
