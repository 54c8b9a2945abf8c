"""Read article files of every supported format into :class:`Article` records.

Supported: ``.txt`` (metadata lines, then title and body), ``.md``, ``.html``/``.htm``,
``.json`` (an object or a list of objects) and ``.jsonl``, the last two also gzipped
(``.json.gz``, ``.jsonl.gz``, read as a stream, never unpacked to disk). The raw files are
only read.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from index.cleaning import clean_paragraphs, drop_head_appeals
from index.records import Article

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".json.gz",
            ".jsonl.gz")
_META_KEYS = {"date": "published", "published": "published", "url": "url", "source": "source",
              "title": "title", "id": "id"}
_META_LINE = re.compile(r"^\s*(\w+)\s*:?\s+(\S+)(.*)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


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


def read_file(source: SourceFile) -> list[Article]:
    """Read one file into articles. Raises :class:`UnreadableFile` with the reason."""
    try:
        articles = _parse(source)
    except (OSError, UnicodeDecodeError, EOFError, zlib.error) as exc:
        # A corrupt gzip stream is an OSError (BadGzipFile); a truncated one an EOFError.
        raise UnreadableFile(source.path, f"cannot read: {exc}") from exc
    articles = [a for a in articles if a.text.strip()]
    if not articles:
        raise UnreadableFile(source.path, "no article text found")
    return articles


def _parse(source: SourceFile) -> list[Article]:
    path, suffix = source.path, _suffix(source.path)
    if suffix == ".jsonl.gz":  # line by line from the stream: the file is never unpacked
        with gzip.open(path, "rt", encoding="utf-8-sig") as lines:
            return list(_from_jsonl(lines, source))
    if suffix == ".json.gz":
        with gzip.open(path, "rt", encoding="utf-8-sig") as stream:
            return list(_from_json(stream.read(), source))
    raw = path.read_text(encoding="utf-8-sig")
    if suffix == ".jsonl":
        return list(_from_jsonl(io.StringIO(raw), source))
    if suffix == ".json":
        return list(_from_json(raw, source))
    if suffix in (".html", ".htm"):
        return [_from_html(raw, source)]
    if suffix in (".md", ".markdown"):
        return [_from_markdown(raw, source)]
    return [parse_txt(raw, source.key)]


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


def _from_json(raw: str, source: SourceFile) -> Iterator[Article]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(source.path, f"invalid JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    for n, item in enumerate(items):
        yield _from_object(item, source, n if len(items) > 1 else None)


def _from_jsonl(lines: Iterable[str], source: SourceFile) -> Iterator[Article]:
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableFile(source.path, f"invalid JSON on line {lineno}: {exc}") from exc
        yield _from_object(item, source, lineno)


def _from_object(item: object, source: SourceFile, n: int | None) -> Article:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise UnreadableFile(source.path, "each JSON object needs a string 'text'")

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
