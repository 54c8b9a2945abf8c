"""Read article files of every supported format into :class:`Article` records.

Supported: ``.txt`` (metadata lines, then title and body), ``.md``, ``.html``/``.htm``,
``.json`` (an object or a list of objects) and ``.jsonl``, the last two also gzipped
(``.json.gz``, ``.jsonl.gz``, read as a stream, never unpacked to disk). The raw files are
only read.

A bad item is left out, not its file: a malformed JSONL line, a JSON list item that is not
an article, an object without text, an article over the size limit; each is reported by
its place (``FILE:LINE``, ``FILE:item N``) and every good item of the file is kept.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.cleaning import clean_paragraphs, drop_head_appeals
from index.records import Article

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".json.gz",
            ".jsonl.gz")
_META_KEYS = {"date": "published", "published": "published", "url": "url", "source": "source",
              "title": "title", "id": "id"}
_META_LINE = re.compile(r"^\s*(\w+)\s*:?\s+(\S+)(.*)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# The default of the ``QA_MAX_ARTICLE_CHARS`` setting: a longer article is left out (a
# dump mistaken for an article would hold the whole build's memory).
MAX_ARTICLE_CHARS = 2_000_000
LISTED_SKIPS = 20  # bad items of one file listed by place; the rest are counted


class UnreadableFile(Exception):
    """A source file that could not be turned into articles; the message says why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class SourceFile:
    """A file to read and the id prefix its articles get (its path, relative to its root)."""

    path: Path
    key: str


def discover(sources: Iterable[Path]) -> list[SourceFile]:
    """List the article files under the given files and folders, in a stable order.

    Raises FileNotFoundError for a source that does not exist.
    """
    found: list[SourceFile] = []
    for source in sources:
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file() and _suffix(path) in SUFFIXES and not _hidden(path, source):
                    found.append(SourceFile(path, _key(path.relative_to(source))))
        elif source.is_file():
            found.append(SourceFile(source, _key(Path(source.name))))
        else:
            raise FileNotFoundError(f"no such file or folder: {source}")
    return found


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _suffix(path: Path) -> str:
    """The format suffix, ``.gz`` included with the one before it."""
    name = path.name.lower()
    if name.endswith(".gz"):
        return "".join(path.suffixes[-2:]).lower()
    return path.suffix.lower()


def _key(relative: Path) -> str:
    stem = relative.name[: len(relative.name) - len(_suffix(relative))]
    return "--".join((*relative.parts[:-1], stem))


@dataclass
class FileRead:
    """The articles of one file, and its items that were left out: ``(where, why)`` with
    ``where`` the file, ``FILE:LINE`` (a JSONL line) or ``FILE:item N`` (the Nth object of
    a JSON list, counted from 1). At most ``LISTED_SKIPS`` items are listed; ``unlisted``
    counts the rest, so a file of a million bad lines costs no more than one of twenty."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unlisted: int = 0

    def skip(self, where: str, why: str) -> None:
        """Leave one item out, and say why."""
        if len(self.skipped) < LISTED_SKIPS:
            self.skipped.append((where, why))
        else:
            self.unlisted += 1

    def add(self, article: Article | None, where: str, max_chars: int | None) -> None:
        """Keep an article unless it is empty or longer than ``max_chars``."""
        if article is None:
            return
        if not article.text.strip():
            self.skip(where, "no article text")
        elif max_chars is not None and len(article.text) > max_chars:
            self.skip(where, f"article of {len(article.text)} characters is over "
                             f"QA_MAX_ARTICLE_CHARS={max_chars}")
        else:
            self.articles.append(article)

    def report(self, path: Path) -> list[tuple[str, str]]:
        """The skipped items, then one line counting those not listed."""
        if not self.unlisted:
            return list(self.skipped)
        return [*self.skipped, (str(path), f"... and {self.unlisted} more skipped lines in "
                                           f"{path}")]


def read_source(source: SourceFile, max_article_chars: int | None = MAX_ARTICLE_CHARS
                ) -> FileRead:
    """Read one file: its good articles, and each bad item (a malformed JSONL line, a JSON
    list item that is not an article, an empty or too long article) left out with the
    reason. Raises :class:`UnreadableFile` when the file gives nothing at all and no
    item to blame."""
    read = FileRead()
    try:
        _parse(source, read, max_article_chars)
    except (OSError, UnicodeDecodeError, EOFError, zlib.error) as exc:
        # A corrupt gzip stream is an OSError (BadGzipFile); a truncated one an EOFError.
        raise UnreadableFile(source.path, f"cannot read: {exc}") from exc
    if not read.articles and not read.skipped:
        raise UnreadableFile(source.path, "no article text found")
    return read


def read_file(source: SourceFile, max_article_chars: int | None = None) -> list[Article]:
    """Read one file into articles, leaving bad items out. Raises
    :class:`UnreadableFile` with the reason when no article is left."""
    read = read_source(source, max_article_chars)
    if not read.articles:
        where, why = read.skipped[0]
        raise UnreadableFile(source.path, why if where == str(source.path)
                             else f"{where}: {why}")
    return read.articles


def _parse(source: SourceFile, read: FileRead, max_chars: int | None) -> None:
    path, suffix = source.path, _suffix(source.path)
    if suffix in (".jsonl", ".jsonl.gz"):  # line by line from the stream: never unpacked
        opener = gzip.open if suffix == ".jsonl.gz" else open
        with opener(path, "rb") as lines:
            _from_jsonl(lines, source, read, max_chars)
        return
    if suffix == ".json.gz":
        with gzip.open(path, "rt", encoding="utf-8-sig") as stream:
            _from_json(stream.read(), source, read, max_chars)
        return
    raw = path.read_text(encoding="utf-8-sig")
    where = str(path)
    if suffix == ".json":
        _from_json(raw, source, read, max_chars)
    elif suffix in (".html", ".htm"):
        read.add(_from_html(raw, source), where, max_chars)
    elif suffix in (".md", ".markdown"):
        read.add(_from_markdown(raw, source), where, max_chars)
    else:
        read.add(parse_txt(raw, source.key), where, max_chars)


def _normalise_lines(raw: str) -> list[str]:
    return [line.rstrip() for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def _paragraphs(lines: list[str]) -> list[str]:
    """Each non-empty line is a paragraph; blank lines only separate."""
    return [re.sub(r"[ \t]+", " ", line.strip()) for line in lines if line.strip()]


def parse_txt(raw: str, article_id: str) -> Article:
    """Parse the seed format: ``key value`` metadata lines, then the title, then the body.

    Metadata keys are lower case (``date``, ``published``, ``url``, ``source``, ``title``,
    ``id``); text glued after a date or URL on its line is read as ordinary text.
    """
    lines = _normalise_lines(raw)
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _META_LINE.match(line)
        if not line.strip():
            if meta:
                break  # the metadata block ends at its first blank line
            i += 1
            continue
        # Keys are lower case, so a title such as "Source of the leak found" is not one.
        if not match or match.group(1) not in _META_KEYS:
            break
        field = _META_KEYS[match.group(1)]
        value, rest = match.group(2), match.group(3)
        if field == "published" and not _ISO_DATE.match(value):
            break
        if field in ("title", "source"):  # free text: the whole line
            value, rest = (value + rest).strip(), ""
        meta[field] = value[:10] if field == "published" else value
        # Text after the value on a metadata line (a banner glued to it) is ordinary text.
        if rest.strip():
            lines[i] = rest
            break
        i += 1
    body = drop_head_appeals(lines[i:])
    paragraphs = _paragraphs(body)
    title = meta.get("title") or (paragraphs.pop(0) if paragraphs else "")
    return Article(
        id=meta.get("id", article_id),
        title=title,
        text="\n\n".join(clean_paragraphs(paragraphs)),
        url=meta.get("url"),
        published=meta.get("published"),
        source=meta.get("source"),
    )


def _from_markdown(raw: str, source: SourceFile) -> Article:
    import frontmatter  # a YAML front matter parser, not a hand-written one
    import yaml

    try:
        post = frontmatter.loads(raw)
    except (yaml.YAMLError, ValueError) as exc:
        raise UnreadableFile(source.path, f"malformed front matter: {exc}") from exc
    # YAML gives dates as dates and numbers as numbers: every field is text here.
    meta = {str(k).lower(): (v.isoformat() if hasattr(v, "isoformat") else str(v))
            for k, v in post.metadata.items() if v is not None}
    paragraphs = _paragraphs(_normalise_lines(post.content))
    title = meta.get("title", "")
    if not title and paragraphs and paragraphs[0].startswith("#"):
        title = paragraphs.pop(0).lstrip("#").strip()
    paragraphs = [p.lstrip("#").strip() if p.startswith("#") else p for p in paragraphs]
    if not title and paragraphs:
        title = paragraphs.pop(0)
    return Article(
        id=meta.get("id", source.key),
        title=title,
        text="\n\n".join(clean_paragraphs(paragraphs)),
        url=meta.get("url"),
        published=_date_or_none(meta.get("date") or meta.get("published")),
        source=meta.get("source"),
    )


def _from_html(raw: str, source: SourceFile) -> Article:
    import trafilatura  # imported here: only HTML sources pay its import time

    doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False)
    if doc is None:
        raise UnreadableFile(source.path, "no main text found in the HTML")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    return article_from_extraction(data, source.key, data.get("url"))


def article_from_extraction(data: dict, article_id: str, url: str | None,
                            source: str | None = None) -> Article:
    """An article from trafilatura's extraction of a page (text, title, date, site;
    ``source`` overrides the site name the page gives)."""
    paragraphs = _paragraphs(_normalise_lines(data.get("text") or ""))
    title = (data.get("title") or "").strip()
    if paragraphs and (not title or paragraphs[0] == title):
        title = paragraphs.pop(0)  # the headline opens the extracted text; keep it once
    return Article(
        id=article_id,
        title=title,
        text="\n\n".join(clean_paragraphs(paragraphs)),
        url=url,
        published=_date_or_none(data.get("date")),
        source=source or data.get("sitename") or data.get("hostname"),
    )


def _date_or_none(value: str | None) -> str | None:
    return value[:10] if value and _ISO_DATE.match(value) else None


def _from_json(raw: str, source: SourceFile, read: FileRead, max_chars: int | None) -> None:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(source.path, f"invalid JSON: {exc}") from exc
    if not isinstance(data, list):
        read.add(_from_object(data, source, None, read, str(source.path)), str(source.path),
                 max_chars)
        return
    for n, item in enumerate(data):
        where = f"{source.path}:item {n + 1}"
        read.add(_from_object(item, source, n if len(data) > 1 else None, read, where),
                 where, max_chars)


def _from_jsonl(lines: Iterable[bytes], source: SourceFile, read: FileRead,
                max_chars: int | None) -> None:
    lineno = 0
    try:
        for lineno, line in enumerate(lines, start=1):
            where = f"{source.path}:{lineno}"
            if not line.strip():
                continue
            try:
                item = json.loads(line.decode("utf-8-sig" if lineno == 1 else "utf-8"))
            except UnicodeDecodeError as exc:
                read.skip(where, f"not UTF-8: {exc}")
                continue
            except json.JSONDecodeError as exc:
                read.skip(where, f"invalid JSON: {exc}")
                continue
            read.add(_from_object(item, source, lineno, read, where), where, max_chars)
    except (OSError, EOFError, zlib.error) as exc:
        if not read.articles and not read.skipped:
            raise  # nothing read: the whole file is unreadable
        # A damaged or truncated stream: keep what was read before the damage.
        read.skipped.append((str(source.path), f"cannot read past line {lineno}: {exc}"))


_TEXT_FIELDS = ("id", "title", "url", "published", "date", "source")


def _from_object(item: object, source: SourceFile, n: int | None, read: FileRead,
                 where: str) -> Article | None:
    """The article of one JSON object, or None (and the reason recorded) when it is not
    one: not an object, no string ``text``, or a metadata field that is not a value."""
    if not isinstance(item, dict):
        read.skip(where, f"not a JSON object but {type(item).__name__}")
        return None
    if not isinstance(item.get("text"), str):
        what = "no 'text'" if item.get("text") is None else \
            f"'text' is {type(item['text']).__name__}, not a string"
        read.skip(where, f"each JSON object needs a string 'text': {what}")
        return None
    for name in _TEXT_FIELDS:
        if isinstance(item.get(name), (dict, list)):
            read.skip(where, f"{name!r} is {type(item[name]).__name__}, not a value")
            return None

    def text_field(name: str) -> str | None:
        value = item.get(name)
        return str(value) if value not in (None, "") else None

    paragraphs = _paragraphs(_normalise_lines(item["text"]))
    default_id = source.key if n is None else f"{source.key}-{n}"
    return Article(
        id=text_field("id") or default_id,
        title=text_field("title") or "",
        text="\n\n".join(paragraphs),
        url=text_field("url"),
        published=_date_or_none(text_field("published") or text_field("date")),
        source=text_field("source"),
    )


# Reads files: each one's articles, or why it could not be read, in the files' order.
FileReader = Callable[[Sequence[SourceFile], int | None], Iterable[FileRead | UnreadableFile]]


def read_here(sources: Sequence[SourceFile], max_article_chars: int | None
              ) -> Iterator[FileRead | UnreadableFile]:
    """Read the files one after another in this process."""
    for source in sources:
        try:
            yield read_source(source, max_article_chars)
        except UnreadableFile as exc:
            yield exc
