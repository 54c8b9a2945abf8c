"""Feeds, sitemaps, URL lists and pages from a local HTTP server on 127.0.0.1 (no test
touches the internet), through ``qa index build`` and ``qa index sync``."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import write_stories
from tests.test_cli import run

PAGE = """<!doctype html><html><head><title>{title}</title>
<link rel="canonical" href="{base}/{name}"><meta name="date" content="{date}"></head>
<body><nav>Home | World | Sport</nav><article><h1>{title}</h1>{body}</article>
<footer>Copyright the Town Herald</footer></body></html>"""
STORY = ("<p>{lead} The council met on Tuesday evening in the old town hall and voted "
         "after a long debate about the budget for the coming year.</p><p>Residents who "
         "attended said the meeting was calm, and the mayor thanked the volunteers who "
         "organised it. The next meeting is planned for the spring.</p>")
LEADS = {
    "a": ("Harbour Reopens", "2025-03-01", "The harbour of Elmswick reopened after repairs "
          "costing 4 million euros."),
    "b": ("Library Extends Hours", "2025-03-02", "The Elmswick library will open until 9 "
          "p.m. on weekdays."),
    "c": ("Bridge Closed", "2025-03-03", "The Dunmore bridge closed for inspection."),
    "gone": ("Fair Cancelled", "2025-03-04", "The spring fair was cancelled because of rain."),
    "private/p": ("Staff Memo", "2025-03-05", "This internal memo must not be indexed."),
}


class Site:
    """A news site with feeds, sitemaps, validators, a page that goes away, a slow one,
    a huge one and one robots.txt forbids; it counts what it was asked."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict]] = []  # (path, status, headers)
        self.gone = False
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = site.respond(self.path, dict(self.headers))
                site.requests.append((self.path, status, dict(self.headers)))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def page(self, name: str) -> bytes:
        title, date, lead = LEADS[name]
        return PAGE.format(title=title, base=self.base, name=f"{name}.html", date=date,
                           body=STORY.format(lead=lead)).encode()

    def respond(self, path: str, headers: dict) -> tuple[int, dict, bytes]:
        html = {"Content-Type": "text/html; charset=utf-8"}
        xml = {"Content-Type": "application/xml"}
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
        if path == "/feed.xml":
            items = "".join(f"<item><title>{n}</title><link>{self.base}/{n}.html</link></item>"
                            for n in ("a", "gone", "private/p"))
            return 200, xml, (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T'
                              f"</title>{items}</channel></rss>").encode()
        if path == "/atom.xml":
            return 200, xml, (f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/'
                              f'Atom"><title>T</title><entry><title>b</title><link href="'
                              f'{self.base}/b.html"/></entry></feed>').encode()
        if path == "/sitemap.xml":
            return 200, xml, (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.'
                              f'sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{self.base}'
                              f"/sitemap-1.xml</loc></sitemap></sitemapindex>").encode()
        if path == "/sitemap-1.xml":
            urls = "".join(f"<url><loc>{self.base}/{n}.html</loc><lastmod>2025-03-03"
                           f"</lastmod></url>" for n in ("c", "slow", "huge"))
            return 200, xml, (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
                              f'schemas/sitemap/0.9">{urls}</urlset>').encode()
        if path == "/a.html":  # ETag
            if headers.get("If-None-Match") == '"a1"':
                return 304, {"ETag": '"a1"'}, b""
            return 200, {**html, "ETag": '"a1"'}, self.page("a")
        if path == "/b.html":  # Last-Modified
            stamp = formatdate(1740900000, usegmt=True)
            if headers.get("If-Modified-Since") == stamp:
                return 304, {}, b""
            return 200, {**html, "Last-Modified": stamp}, self.page("b")
        if path == "/c.html":
            return 200, html, self.page("c")
        if path == "/gone.html":
            return (404, html, b"not here") if self.gone else (200, html, self.page("gone"))
        if path == "/private/p.html":
            return 200, html, self.page("private/p")
        if path == "/slow.html":
            time.sleep(2.5)
            return 200, html, self.page("a")
        if path == "/huge.html":
            return 200, html, b"<p>" + b"x" * 300_000 + b"</p>"
        return 404, html, b"no such page"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def env(tmp_path: Path) -> dict[str, str]:
    return {"QA_DATA_DIR": str(tmp_path / "data"), "QA_FETCH_TIMEOUT": "1",
            "QA_FETCH_MAX_BYTES": "100000", "QA_FETCH_DELAY": "0",
            "QA_CONTACT": "mailto:news@paper.example"}


def status(ix: Path) -> dict:
    return json.loads(run("index", "status", "--index-dir", str(ix), "--json").stdout)


def test_feeds_sitemaps_and_lists_build_an_index_politely(site, tmp_path):
    ix = str(tmp_path / "ix")
    local = write_stories(tmp_path / "local")
    urls = tmp_path / "more.urls"
    urls.write_text(f"# extra pages\n{site.base}/c.html\n")
    built = run("index", "build", f"{site.base}/feed.xml", f"{site.base}/atom.xml",
                f"{site.base}/sitemap.xml", str(urls), str(local), "--index-dir", ix,
                **env(tmp_path))
    assert built.returncode == 0, built.stderr
    assert "added 7" in built.stdout  # a, b, c, gone + 3 local stories
    errors = built.stderr
    assert f"skipped {site.base}/private/p.html: disallowed by robots.txt" in errors
    assert f"skipped {site.base}/slow.html: timed out" in errors
    assert f"skipped {site.base}/huge.html: larger than 100000 bytes" in errors
    assert not any(path.startswith("/private/") for path, _, _ in site.requests)
    agents = {h.get("User-Agent") for _, _, h in site.requests}
    assert agents == {"grounded-qa/0.1 (+mailto:news@paper.example)"}
    # The canonical URL is the id; the page's own date and site come along.
    article = json.loads(run("ask", "When did the harbour of Elmswick reopen?", "--index-dir",
                             ix, "--json", QA_MIN_CONFIDENCE="0").stdout)["citations"]
    assert article and article[0]["url"] == f"{site.base}/a.html"
    assert article[0]["published"] == "2025-03-01" and article[0]["source"] == "127.0.0.1"

    # Again: validators make unchanged pages one small request each, no model work.
    site.requests.clear()
    again = run("index", "build", f"{site.base}/feed.xml", f"{site.base}/atom.xml",
                f"{site.base}/sitemap.xml", str(urls), str(local), "--index-dir", ix,
                **env(tmp_path))
    assert again.returncode == 0 and "index unchanged" in again.stdout
    answered = {path: code for path, code, _ in site.requests}
    assert answered["/a.html"] == 304 and answered["/b.html"] == 304
    assert "/c.html" not in answered  # its sitemap lastmod is older than our copy
    assert "not modified" in again.stdout and "1 skipped by lastmod" in again.stdout


def test_sync_removes_gone_pages_and_logs_a_line_per_run(site, tmp_path):
    ix = str(tmp_path / "ix")
    first = run("index", "build", f"{site.base}/feed.xml", "--index-dir", ix, **env(tmp_path))
    assert first.returncode == 0, first.stderr
    assert status(Path(ix))["articles"] == 2  # a and gone (private is disallowed)
    site.gone = True
    synced = run("index", "sync", f"{site.base}/feed.xml", "--index-dir", ix, "--every", "1s",
                 "--runs", "2", QA_LOG_JSON="1", **env(tmp_path))
    assert synced.returncode == 0, synced.stderr
    lines = [json.loads(line) for line in synced.stderr.splitlines() if line.startswith("{")]
    runs = [line for line in lines if line.get("event") == "sync"]
    assert len(runs) == 2
    assert "removed 1" in runs[0]["summary"] and "1 gone" in runs[0]["summary"]
    assert "index unchanged" in runs[1]["summary"]
    assert status(Path(ix))["articles"] == 1


def test_a_failed_fetch_keeps_the_cached_page_and_bad_sources_fail_cleanly(site, tmp_path):
    ix = str(tmp_path / "ix")
    assert run("index", "build", f"{site.base}/feed.xml", "--index-dir", ix,
               **env(tmp_path)).returncode == 0
    site.close()  # the site is down: nothing is removed, the failures are named
    down = run("index", "build", f"{site.base}/feed.xml", "--index-dir", ix, **env(tmp_path))
    assert down.returncode == 1 and down.stderr.count("\n") == 1
    assert "no readable articles" in down.stderr and "unchanged" in down.stderr
    assert status(Path(ix))["articles"] == 2
    bad = run("index", "sync", "--every", "soon", "--index-dir", ix)
    assert bad.returncode == 2 and "--every" in bad.stderr


def test_the_per_host_delay_spaces_requests(site, tmp_path):
    from index.web import FetchCache, Fetcher, FetchSettings

    fetcher = Fetcher(FetchSettings(delay=0.3, concurrency=4, timeout=1),
                      FetchCache(tmp_path / "fetch.sqlite"))
    began = time.monotonic()
    found = fetcher.collect([f"{site.base}/a.html", f"{site.base}/b.html",
                             f"{site.base}/c.html"])
    assert len(found.articles) == 3
    # robots.txt, then 3 pages: three waits of 0.3 s at least, even with 4 workers.
    assert time.monotonic() - began >= 0.9
