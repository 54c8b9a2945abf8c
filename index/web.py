"""Articles from the web: RSS/Atom feeds, sitemaps (and sitemap indexes), lists of URLs
and single pages, fetched politely and cached so an unchanged page costs one small
request (or none) and no model work.

- httpx fetches (a timeout and a size cap on every request, the user agent names the
  project and a contact); robots.txt is honoured (``urllib.robotparser``); each host waits
  ``delay`` seconds between two requests and at most ``concurrency`` requests run at once.
- A page is asked for with ``If-None-Match`` / ``If-Modified-Since`` from the cache; a 304
  reuses the cached article. A sitemap ``lastmod`` no newer than the cached fetch skips the
  request altogether.
- trafilatura extracts the main text, title, date and canonical URL; the article id is
  the canonical URL.
- A page that answers 404 or 410 is gone: it is left out, so the build removes it. Any
  other failure is reported by URL and skipped; if the page was fetched before, its cached
  article is kept, so a flaky site does not empty the index.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from index.records import Article, source_of

URL_LIST_SUFFIXES = (".urls",)
_XML_STARTS = ("<?xml", "<rss", "<feed", "<urlset", "<sitemapindex", "<rdf:rdf")
_GONE = (404, 410)


def is_url(value: str) -> bool:
    """True for an http(s) URL."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def url_list(path: Path) -> list[str] | None:
    """The URLs of a URL-list file (``.urls``, or a ``.txt`` whose every line is a URL
    or a ``#`` comment), else None."""
    if path.suffix.lower() not in (*URL_LIST_SUFFIXES, ".txt"):
        return None
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8-sig").splitlines()]
    except (OSError, UnicodeDecodeError):
        return None
    urls = [ln for ln in lines if ln and not ln.startswith("#")]
    if path.suffix.lower() in URL_LIST_SUFFIXES or (urls and all(is_url(u) for u in urls)):
        return [u for u in urls if is_url(u)]
    return None


@dataclass(frozen=True)
class FetchSettings:
    """How politely and how far the fetcher goes."""

    user_agent: str = "grounded-qa/0.1 (+https://github.com/grounded-qa)"
    timeout: float = 20.0  # seconds for one request (connect, each read)
    max_bytes: int = 5 << 20  # a larger response is abandoned
    delay: float = 1.0  # seconds between two requests to one host
    concurrency: int = 4  # requests in flight at once (over all hosts)
    max_pages: int = 10_000  # pages one run fetches at most
    max_sitemap_depth: int = 3


@dataclass
class WebReport:
    """What fetching found."""

    articles: list[Article] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, why)
    gone: list[str] = field(default_factory=list)
    requests: int = 0
    not_modified: int = 0
    skipped_by_lastmod: int = 0


class FetchCache:
    """Per-URL validators and the article last extracted, in SQLite under the data dir."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, etag TEXT,"
                           " last_modified TEXT, fetched_at REAL NOT NULL, article TEXT)")

    def get(self, url: str) -> tuple[str | None, str | None, float, Article | None] | None:
        """(etag, last modified, fetched at, article) of a URL, or None."""
        with self._lock:
            row = self._conn.execute("SELECT etag, last_modified, fetched_at, article FROM "
                                     "pages WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        article = Article(**json.loads(row[3])) if row[3] else None
        return row[0], row[1], row[2], article

    def put(self, url: str, etag: str | None, last_modified: str | None,
            article: Article | None) -> None:
        """Remember a fetch."""
        data = json.dumps(asdict(article)) if article else None
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO pages VALUES (?,?,?,?,?)",
                               (url, etag, last_modified, time.time(), data))
            self._conn.commit()

    def forget(self, url: str) -> None:
        """Drop a URL (its page is gone)."""
        with self._lock:
            self._conn.execute("DELETE FROM pages WHERE url = ?", (url,))
            self._conn.commit()

    def close(self) -> None:
        """Close the database."""
        self._conn.close()


class _TooLarge(Exception):
    pass


class Fetcher:
    """Fetches feeds, sitemaps and pages into articles."""

    def __init__(self, settings: FetchSettings, cache: FetchCache,
                 client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self.client = client or httpx.Client(
            timeout=settings.timeout, follow_redirects=True,
            headers={"User-Agent": settings.user_agent})
        self._robots: dict[str, RobotFileParser | None] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}
        self._guard = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._prefetched: dict[str, httpx.Response] = {}  # pages met while expanding
        self.report = WebReport()

    # --- politeness ---------------------------------------------------------------

    def _host_lock(self, host: str) -> threading.Lock:
        with self._guard:
            return self._host_locks.setdefault(host, threading.Lock())

    def _get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """One GET, within the host's delay, the concurrency cap and the size cap."""
        host = urlsplit(url).netloc
        with self._slots, self._host_lock(host):
            wait = self._last.get(host, 0.0) + self.settings.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                with self._guard:
                    self.report.requests += 1
                with self.client.stream("GET", url, headers=headers or {}) as response:
                    body = bytearray()
                    for part in response.iter_bytes():
                        body += part
                        if len(body) > self.settings.max_bytes:
                            raise _TooLarge(f"larger than {self.settings.max_bytes} bytes")
                    response._content = bytes(body)
                    return response
            finally:
                self._last[host] = time.monotonic()

    def allowed(self, url: str) -> bool:
        """What robots.txt of the URL's site says for our user agent (allowed when the
        site has none or it cannot be read)."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        with self._guard:
            known = site in self._robots
        if not known:
            parser: RobotFileParser | None = RobotFileParser()
            try:
                response = self._get(site + "/robots.txt")
                if response.status_code >= 400:
                    parser = None  # no robots.txt: everything is allowed
                else:
                    parser.parse(response.text.splitlines())
            except (httpx.HTTPError, _TooLarge):
                parser = None
            with self._guard:
                self._robots[site] = parser
        robots = self._robots[site]
        return robots is None or robots.can_fetch(self.settings.user_agent, url)

    # --- sources ------------------------------------------------------------------

    def collect(self, sources: Iterable[str]) -> WebReport:
        """Fetch every page the sources name (feeds and sitemaps expanded)."""
        pages: dict[str, float | None] = {}  # url -> lastmod (unix) when a sitemap said
        for source in sources:
            for url, lastmod in self._expand(source, 0):
                pages.setdefault(url, lastmod)
        urls = list(pages)[: self.settings.max_pages]
        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            results = list(pool.map(lambda u: self._page(u, pages[u]), urls))
        seen: set[str] = set()
        for article in results:
            if article is not None and article.id not in seen:
                seen.add(article.id)
                self.report.articles.append(article)
        return self.report

    def _fail(self, url: str, why: str) -> None:
        with self._guard:
            self.report.failed.append((url, why))

    def _expand(self, url: str, depth: int) -> list[tuple[str, float | None]]:
        """The pages a source names: a feed's or a sitemap's entries, else the URL."""
        cached = self.cache.get(url)
        if cached and cached[3]:
            return [(url, None)]  # a page we know: asked for conditionally below
        if not self.allowed(url):
            self._fail(url, "disallowed by robots.txt")
            return []
        try:
            response = self._get(url)
        except (httpx.HTTPError, _TooLarge) as exc:
            self._fail(url, _why(exc))
            return []
        if response.status_code >= 400:
            self._fail(url, f"HTTP {response.status_code}")
            return []
        head = response.content[:512].decode("utf-8", "replace").lstrip().lower()
        if not head.startswith(_XML_STARTS):
            self._prefetched[url] = response  # a page: extracted below without a new request
            return [(url, None)]
        if "<urlset" in head or "<sitemapindex" in head:
            return self._sitemap(url, response.content, depth)
        return _feed_entries(response.content, url)

    def _sitemap(self, url: str, body: bytes, depth: int) -> list[tuple[str, float | None]]:
        from defusedxml import ElementTree

        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as exc:
            self._fail(url, f"unreadable sitemap: {exc}")
            return []
        tag = root.tag.rsplit("}", 1)[-1]
        found = []
        for item in root:
            loc = next((c.text.strip() for c in item if c.tag.endswith("loc") and c.text), None)
            mod = next((c.text.strip() for c in item if c.tag.endswith("lastmod") and c.text),
                       None)
            if not loc:
                continue
            loc = urljoin(url, loc)
            if tag == "sitemapindex":
                if depth < self.settings.max_sitemap_depth:
                    found.extend(self._expand(loc, depth + 1))
            else:
                found.append((loc, _timestamp(mod)))
        return found

    def _page(self, url: str, lastmod: float | None) -> Article | None:
        cached = self.cache.get(url)
        if cached and cached[3] and lastmod is not None and lastmod <= cached[2]:
            with self._guard:
                self.report.skipped_by_lastmod += 1
            return cached[3]  # the sitemap says it has not changed since we fetched it
        kept = cached[3] if cached else None
        if not self.allowed(url):
            self._fail(url, "disallowed by robots.txt")
            return None
        headers = {}
        if cached and cached[0]:
            headers["If-None-Match"] = cached[0]
        if cached and cached[1]:
            headers["If-Modified-Since"] = cached[1]
        try:
            response = self._prefetched.pop(url, None) or self._get(url, headers)
        except (httpx.HTTPError, _TooLarge) as exc:
            self._fail(url, _why(exc))
            return kept
        if response.status_code == 304 and kept:
            with self._guard:
                self.report.not_modified += 1
            return kept
        if response.status_code in _GONE:
            self.cache.forget(url)
            with self._guard:
                self.report.gone.append(url)
            return None
        if response.status_code >= 400:
            self._fail(url, f"HTTP {response.status_code}")
            return kept
        article = extract(response.text, str(response.url))
        if article is None:
            self._fail(url, "no article text found")
            return kept
        self.cache.put(url, response.headers.get("etag"), response.headers.get("last-modified"),
                       article)
        return article


def _why(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return str(exc) or type(exc).__name__


def _timestamp(value: str | None) -> float | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _feed_entries(body: bytes, url: str) -> list[tuple[str, float | None]]:
    import feedparser

    feed = feedparser.parse(body)
    found = []
    for entry in feed.entries:
        link = entry.get("link")
        if link:
            updated = entry.get("updated") or entry.get("published")
            found.append((urljoin(url, link), _feed_time(updated)))
    return found


def _feed_time(value: str | None) -> float | None:
    # A feed entry's date counts as a sitemap lastmod: not newer than our fetch, no request.
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return _timestamp(value)


def extract(html: str, url: str) -> Article | None:
    """The article of a web page (trafilatura: main text, title, date, canonical URL)."""
    import trafilatura

    from index.readers import article_from_extraction

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True,
                                      include_comments=False)
    if doc is None:
        return None
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    canonical = data.get("url") if data.get("url") and is_url(data["url"]) else url
    # Known by its site's host, as filters and the widget name sources.
    article = article_from_extraction(data, canonical, canonical, source_of(canonical))
    return article if article.text.strip() else None
