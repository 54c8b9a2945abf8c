"""Sources of a build, mixed freely: files and folders, URLs of feeds, sitemaps and pages,
and URL-list files (``.urls``, or ``.txt`` files of URLs only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.readers import MAX_ARTICLE_CHARS, FileReader, discover, read_here
from index.records import Article
from index.web import Fetcher, WebReport, is_url, url_list


@dataclass
class Gathered:
    """Every article the sources gave, and what could not be read."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    web: WebReport | None = None


def split_sources(sources: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Local paths, and URLs (URL-list files expanded). Raises FileNotFoundError for a
    path that does not exist."""
    paths: list[Path] = []
    urls: list[str] = []
    for source in sources:
        if is_url(source):
            urls.append(source)
            continue
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {source}")
        listed = url_list(path) if path.is_file() else None
        if listed is not None:
            urls.extend(listed)
        else:
            paths.append(path)
    return paths, urls


def gather(sources: Sequence[str], fetcher: Callable[[], Fetcher],
           max_article_chars: int | None = MAX_ARTICLE_CHARS,
           reader: FileReader | None = None) -> Gathered:
    """Read the files (with ``reader``: here by default, or on a cluster) and fetch the
    web sources (``fetcher`` is made only if needed); a file's article over
    ``max_article_chars`` is left out."""
    from index.builder import read_sources

    paths, urls = split_sources(sources)
    found = Gathered()
    if paths:
        discover(paths)  # a missing path fails before any request is made
        found.articles, found.skipped = read_sources(paths, max_article_chars,
                                                     reader or read_here)
    if urls:
        found.web = fetcher().collect(urls)
        known = {a.id for a in found.articles}
        for article in found.web.articles:
            if article.id in known:
                found.skipped.append((article.url or article.id,
                                      f"duplicate article id {article.id!r}"))
            else:
                found.articles.append(article)
        found.skipped.extend(found.web.failed)
    return found
