"""The widget in a real browser (Debian's Chromium driven by Playwright), embedded in host
pages served from other origins than the API."""

from __future__ import annotations

import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import STORIES, build, free_port, serve, write_stories

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # make test installs it; say so loudly where it cannot
    pytest.skip(f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing (apt-get install chromium)",
                allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser
QUESTION = "How many loaves does the Dunmore bakery bake a day?"
# Pictographs, dingbats and symbols: what a missing emoji font turns into empty boxes.
EMOJI = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f]")
XSS = {"id": "xss", "title": "Forum <img src=x onerror=window.__xss=1> hacked",
       "url": "javascript:window.__xss=3", "published": "2024-03-06",
       "text": "The attacker posted <img src=x onerror=window.__xss=1> and "
               "<script>window.__xss=2</script> in the comment field of the village forum."}
# An article that opens with a dozen photo captions: the cited sentence is far below the top
# of the passage the source card shows (the whole article is one 760-character passage).
CAPTIONS = [f"Photo {i}: boats moored at dawn beside the old stone quay." for i in range(1, 13)]
HARBOUR = {"id": "harbour", "title": "Harbour Festival Returns", "published": "2024-03-07",
           "url": "https://news.example/harbour",
           "text": "\n".join(CAPTIONS) + "\nThe Porthcove harbour festival drew 9,400 visitors "
                                         "on Sunday."}
HARBOUR_QUESTION = "How many visitors did the Porthcove harbour festival draw on Sunday?"
HOSTILE_CSS = """
* { color: rgb(255, 0, 0) !important; font-size: 40px !important; }
button { background: rgb(255, 0, 0) !important; border: 9px solid rgb(0, 255, 0) !important; }
textarea, mark, h2 { display: none !important; }
"""


class HostPages:
    """A plain static server on its own port: the site that embeds the widget."""

    def __init__(self, port: int, pages: dict[str, tuple[str, str]], csp: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path not in pages:
                    self.send_error(404)
                    return
                ctype, body = pages[self.path]
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Security-Policy", csp)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args) -> None:
                pass

        self.url = f"http://127.0.0.1:{port}"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def host_pages(api: str) -> dict[str, tuple[str, str]]:
    tag = f'<script src="{api}/widget.js" data-title="Ask the archive" defer></script>'
    html = "text/html; charset=utf-8"
    return {
        "/page.html": (html, f"<!doctype html><title>Host</title><h1>News site</h1>{tag}"),
        "/dark.html": (html, f'<!doctype html><script src="{api}/widget.js" data-theme="dark"'
                             ' defer></script>'),
        "/hostile.css": ("text/css", HOSTILE_CSS + ".launcher { color: rgb(1, 2, 3); }"),
        "/hostile.html": (html, '<!doctype html><link rel="stylesheet" href="/hostile.css">'
                                '<button class="launcher" id="own">Host button</button>'
                                f'<div class="panel" id="ownpanel">host panel</div>{tag}'),
        "/scoped.html": (html, f'<!doctype html><script src="{api}/widget.js" '
                               'data-sources="nobody.example" defer></script>'),
        "/since.html": (html, f'<!doctype html><script src="{api}/widget.js" '
                              'data-since="2024-03-05" defer></script>'),
        "/article.html": (html, "<!doctype html><title>Article</title>"
                                + '<p style="height:3000px">Top of the page.</p>'
                                + "".join(f"<p>{p}</p>" for p in STORIES[2]["text"].split("\n\n"))
                                + '<p style="height:3000px">End.</p>'),
        "/inline.html": (html, '<!doctype html><h1>Inline</h1><qa-chat data-title="Inline '
                               f'chat"></qa-chat><script src="{api}/widget.js" data-mount="none"'
                               ' defer></script>'),
    }


@pytest.fixture(scope="module")
def api(tmp_path_factory, hashing):
    tmp = tmp_path_factory.mktemp("widget")
    source = write_stories(tmp / "src", [*STORIES, XSS])
    build(tmp / "ix", hashing, source)
    host_port = free_port()
    server = serve(tmp / "ix", hashing, min_confidence=0.25,
                   allowed_origins=[f"http://127.0.0.1:{host_port}"])
    with server:
        server.wait_ready()
        yield server, host_port


@pytest.fixture(scope="module")
def preamble_api(tmp_path_factory, hashing):
    """A service of its own whose index holds the captioned article (the shared one's
    answers stay as its tests expect)."""
    tmp = tmp_path_factory.mktemp("preamble")
    build(tmp / "ix", hashing, write_stories(tmp / "src", [*STORIES, HARBOUR]))
    with serve(tmp / "ix", hashing, min_confidence=0.25) as server:
        server.wait_ready()
        yield server


def _csp(api: str) -> str:
    # What a strict host page allows: our origin for scripts, styles and requests.
    return (f"default-src 'none'; script-src {api}; style-src 'self' {api}; "
            f"connect-src {api}")


@pytest.fixture(scope="module")
def host(api):
    server, host_port = api
    pages = HostPages(host_port, host_pages(server.url), _csp(server.url))
    yield pages
    pages.close()


@pytest.fixture(scope="module")
def stranger(api):
    """A host on an origin the service does not allow."""
    server, _ = api
    pages = HostPages(free_port(), host_pages(server.url), _csp(server.url))
    yield pages
    pages.close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    yield page
    context.close()


def open_and_ask(page, url: str, question: str) -> None:
    page.goto(url)
    launcher = page.locator("qa-chat .launcher")
    launcher.click()
    page.locator("qa-chat textarea").fill(question)
    page.locator("qa-chat textarea").press("Enter")


def api_answer(api_url: str, question: str) -> dict:
    return httpx.post(api_url + "/api/chat", timeout=30, json={
        "messages": [{"role": "user", "content": question}]}).json()


def test_ask_see_streamed_answer_open_citation(api, host, page):
    server, _ = api
    streamed = []
    page.on("response", lambda r: streamed.append(r.headers.get("content-type", ""))
            if r.url.endswith("/api/chat") else None)
    page.goto(host.url + "/page.html")
    launcher = page.locator("qa-chat .launcher")
    assert launcher.get_attribute("aria-expanded") == "false"
    launcher.click()
    assert launcher.get_attribute("aria-expanded") == "true"
    dialog = page.locator("qa-chat [role=dialog]")
    assert dialog.is_visible()
    assert dialog.get_attribute("aria-labelledby")
    assert page.locator("qa-chat h2").inner_text() == "Ask the archive"
    page.locator("qa-chat textarea").fill(QUESTION)
    page.locator("qa-chat textarea").press("Enter")
    chip = page.locator("qa-chat [role=log] .chip").first
    chip.wait_for()
    expected = api_answer(server.url, QUESTION)
    citation = expected["citations"][0]
    answer = page.locator("qa-chat .message.assistant").last
    assert "800 loaves" in answer.inner_text()
    # The short answer is highlighted inside the sentence, at the offsets the API gives.
    assert expected["answer_span"]["text"] == "800"
    assert answer.locator("mark.answer-span").inner_text() == "800"
    assert streamed and streamed[0].startswith("text/event-stream")
    chip.click()
    assert chip.get_attribute("aria-expanded") == "true"
    assert page.locator("qa-chat .source mark").inner_text() == citation["quote"]
    assert page.locator("qa-chat .source-title").inner_text() == citation["title"]
    meta = page.locator("qa-chat .source-meta")
    assert citation["published"] in meta.inner_text()
    # The source card opens the article at the quoted sentence.
    assert meta.locator("a").get_attribute("href") == citation["link"]
    assert citation["link"].startswith(citation["url"] + "#:~:text=")
    assert page.errors == []


def test_abstention_reads_as_such(host, page):
    open_and_ask(page, host.url + "/page.html", "Quantum chromodynamics gluon lattice?")
    bubble = page.locator("qa-chat .message.assistant.abstain")
    bubble.wait_for()
    assert "No article answers this." in bubble.inner_text()
    assert page.locator("qa-chat .chip").count() == 0


def test_server_text_is_rendered_as_text(host, page):
    open_and_ask(page, host.url + "/page.html",
                 "What did the attacker post in the comment field of the village forum?")
    page.locator("qa-chat .chip").first.click()
    page.locator("qa-chat .source mark").wait_for()
    answer = page.locator("qa-chat .message.assistant").last.inner_text()
    assert "<img src=x onerror=window.__xss=1>" in answer
    assert "<script>window.__xss=2</script>" in answer
    title = page.locator("qa-chat .source-title").inner_text()
    assert title == XSS["title"]
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    counts = page.evaluate("""() => {
        const root = document.querySelector('qa-chat').shadowRoot;
        return [root.querySelectorAll('img').length, root.querySelectorAll('script').length,
                root.querySelectorAll('.source-meta a').length];
    }""")
    assert counts == [0, 0, 0]  # no elements from text, and no javascript: link


def test_hostile_host_styles_do_not_get_in_and_ours_do_not_get_out(host, page):
    page.goto(host.url + "/hostile.html")
    launcher = page.locator("qa-chat .launcher")
    launcher.click()
    style = page.evaluate("""() => {
        const root = document.querySelector('qa-chat').shadowRoot;
        const css = (el) => getComputedStyle(el);
        const l = css(root.querySelector('.launcher'));
        const t = css(root.querySelector('textarea'));
        const h = css(root.querySelector('h2'));
        const own = css(document.getElementById('own'));
        const ownPanel = css(document.getElementById('ownpanel'));
        return {launcherBg: l.backgroundColor, launcherBorder: l.borderTopWidth,
                launcherFont: l.fontSize, textareaDisplay: t.display, titleColor: h.color,
                titleFont: h.fontSize, ownPosition: own.position, ownColor: own.color,
                ownPanelBorder: ownPanel.borderTopWidth, ownPanelOverflow: ownPanel.overflow};
    }""")
    assert style["launcherBg"] != "rgb(255, 0, 0)"
    assert style["launcherBorder"] == "0px"
    assert style["launcherFont"] != "40px" and style["titleFont"] != "40px"
    assert style["textareaDisplay"] != "none"
    assert style["titleColor"] != "rgb(255, 0, 0)"
    # The widget's .launcher/.panel rules did not style the host's own elements.
    assert style["ownPosition"] == "static"
    assert style["ownPanelBorder"] == "0px" and style["ownPanelOverflow"] == "visible"
    page.locator("qa-chat textarea").fill(QUESTION)
    page.locator("qa-chat textarea").press("Enter")
    page.locator("qa-chat .chip").first.wait_for()


def test_keyboard_enter_sends_escape_closes_and_returns_focus(host, page):
    page.goto(host.url + "/page.html")
    launcher = page.locator("qa-chat .launcher")
    launcher.focus()
    page.keyboard.press("Enter")
    assert launcher.get_attribute("aria-expanded") == "true"
    focused = "() => document.querySelector('qa-chat').shadowRoot.activeElement?.className"
    assert page.evaluate(focused) == ""  # the textarea (it has no class) has focus
    assert page.evaluate("() => document.querySelector('qa-chat').shadowRoot"
                         ".activeElement.tagName") == "TEXTAREA"
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.locator("qa-chat .chip").first.wait_for()
    page.keyboard.press("Escape")
    assert launcher.get_attribute("aria-expanded") == "false"
    assert not page.locator("qa-chat [role=dialog]").is_visible()
    assert page.evaluate(focused) == "launcher"


def test_history_is_kept_in_the_session_and_sent(host, page):
    open_and_ask(page, host.url + "/page.html", QUESTION)
    page.locator("qa-chat .chip").first.wait_for()
    page.reload()
    page.locator("qa-chat .launcher").click()
    assert page.locator("qa-chat .message.user").count() == 1
    assert page.locator("qa-chat .chip").count() == 1
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as request:
        page.locator("qa-chat textarea").fill("Who owns it?")
        page.locator("qa-chat textarea").press("Enter")
    sent = json.loads(request.value.post_data)["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == QUESTION


def test_disallowed_origin_is_refused(api, stranger, page):
    server, _ = api
    open_and_ask(page, stranger.url + "/page.html", QUESTION)
    error = page.locator("qa-chat .message.error")
    error.wait_for()
    assert "could not be reached" in error.inner_text()
    preflight = httpx.options(server.url + "/api/chat", headers={
        "Origin": stranger.url, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert "access-control-allow-origin" not in preflight.headers


def test_phone_width_layout_and_dark_theme(host, browser, tmp_path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    page = context.new_page()
    page.goto(host.url + "/dark.html")
    page.locator("qa-chat .launcher").click()
    box = page.locator("qa-chat .panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["y"] >= 0 and box["y"] + box["height"] <= 740
    assert page.locator("qa-chat").get_attribute("data-resolved-theme") == "dark"
    background = page.evaluate("() => getComputedStyle(document.querySelector('qa-chat')"
                               ".shadowRoot.querySelector('.panel')).backgroundColor")
    assert background == "rgb(22, 26, 34)"
    context.close()


def test_inline_element_without_launcher(host, page):
    page.goto(host.url + "/inline.html")
    panel = page.locator("qa-chat .panel")
    assert panel.is_visible()
    assert page.locator("qa-chat .launcher").count() == 0
    assert page.locator("qa-chat h2").inner_text() == "Inline chat"
    assert page.locator("qa-chat").count() == 1  # data-mount="none": no floating copy


def test_demo_page_runs_under_its_strict_csp(api, page):
    server, _ = api
    response = page.goto(server.url + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator("qa-chat .launcher").click()
    page.locator("qa-chat textarea").fill(QUESTION)
    page.locator("qa-chat textarea").press("Enter")
    page.locator("qa-chat .chip").first.wait_for()
    assert page.errors == []


def assert_icon_button(button) -> None:
    """The button shows an inline SVG icon, has no emoji (nor any) text, and is named by
    its aria-label (the locator found it by that name)."""
    assert button.count() == 1
    icon = button.locator("svg")
    assert icon.count() == 1 and icon.get_attribute("aria-hidden") == "true"
    box = icon.bounding_box()
    assert box["width"] >= 12 and box["height"] >= 12
    text = button.text_content()
    assert not EMOJI.search(text) and text.strip() == ""


def test_answer_shows_its_source_date_age_and_takes_feedback(api, host, page):
    server, _ = api
    open_and_ask(page, host.url + "/page.html", QUESTION)
    answer = page.locator("qa-chat .message.assistant").last
    answer.locator(".chip").first.wait_for()
    assert answer.locator(".origin").inner_text() == "news.example · 2024-03-05"
    # Asked today of a 2024 article: the answer says how old it is.
    assert "years before this answer" in answer.locator(".age").inner_text()
    for name in ("Helpful", "Not helpful"):  # drawn icons, not emoji a font may lack
        assert_icon_button(answer.get_by_role("button", name=name, exact=True))
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as sent:
        answer.get_by_role("button", name="Not helpful").click()
    assert sent.value.status == 200
    assert answer.locator(".thanks").inner_text() == "Thanks!"
    assert answer.get_by_role("button", name="Helpful", exact=True).is_disabled()
    from service.journal import Journal

    journal = Journal(server.settings.data_dir)
    rated = journal.rated_since(0, "down")
    assert [r.question for r in rated] == [QUESTION]


CONFIDENCE_WORDS = ("Likely right", "Possibly right", "Unsure")


def confidence_words(confidence: float) -> str:
    """The bands widget.js's confidenceWords draws."""
    return ("Likely right" if confidence >= 0.75 else "Possibly right" if confidence >= 0.5
            else "Unsure")


def contrast(fg: str, bg: str) -> float:
    """The WCAG contrast ratio of two opaque computed colours ("rgb(r, g, b)")."""
    def luminance(css: str) -> float:
        channels = [int(x) / 255 for x in re.findall(r"\d+", css)[:3]]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                   for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def label_colours(page) -> dict:
    return page.evaluate("""() => {
        const label = document.querySelector('qa-chat').shadowRoot.querySelector('.confidence');
        const style = getComputedStyle(label);
        return {color: style.color, background: style.backgroundColor}; }""")


def test_answer_shows_its_confidence_in_words(api, host, page):
    server, _ = api
    abstain_question = "Quantum chromodynamics gluon lattice?"
    assert not api_answer(server.url, abstain_question)["grounded"]
    open_and_ask(page, host.url + "/page.html", abstain_question)
    abstention = page.locator("qa-chat .message.assistant.abstain")
    abstention.wait_for()
    assert abstention.locator(".confidence").count() == 0  # no label on "I don't know"
    page.get_by_role("button", name="Clear").click()  # the next question comes on its own

    expected = api_answer(server.url, QUESTION)
    assert expected["grounded"]
    page.locator("qa-chat textarea").fill(QUESTION)
    page.locator("qa-chat textarea").press("Enter")
    answer = page.locator("qa-chat .message.assistant").last
    answer.locator(".chip").first.wait_for()
    label = answer.locator(".confidence")
    assert label.count() == 1
    words = label.locator(".confidence-words").inner_text()
    assert words in CONFIDENCE_WORDS
    assert words == confidence_words(expected["confidence"])
    # The number is in the tooltip and in the text a screen reader reads with the words.
    title = label.get_attribute("title")
    shown = re.fullmatch(r"Confidence (\d\.\d\d): the estimated chance this answer is right",
                         title)
    assert shown and abs(float(shown[1]) - expected["confidence"]) <= 0.005, title
    assert label.text_content() == (f"{words} (confidence {shown[1]}: the estimated chance "
                                    "this answer is right)")
    assert label.locator(".visually-hidden").bounding_box()["width"] <= 1
    light = label_colours(page)
    assert contrast(light["color"], light["background"]) >= 4.5, light

    # The dark theme, on an answer restored from the session: still labelled, still legible.
    page.goto(host.url + "/dark.html")
    page.locator("qa-chat .launcher").click()
    restored = page.locator("qa-chat .message.assistant .confidence-words")
    assert restored.all_inner_texts() == [words]
    dark = label_colours(page)
    assert dark["background"] != light["background"]
    assert contrast(dark["color"], dark["background"]) >= 4.5, dark
    assert page.errors == []


def test_data_sources_and_since_restrict_what_is_searched(host, page):
    bodies = []
    page.on("request", lambda r: bodies.append(json.loads(r.post_data))
            if r.url.endswith("/api/chat") else None)
    open_and_ask(page, host.url + "/scoped.html", QUESTION)
    bubble = page.locator("qa-chat .message.assistant.abstain")
    bubble.wait_for()
    assert "No article matches the sources and dates" in bubble.inner_text()
    assert bodies[-1]["filters"] == {"sources": ["nobody.example"]}
    open_and_ask(page, host.url + "/since.html", "How many residents were evacuated?")
    page.locator("qa-chat .message.assistant:not([aria-busy])").last.wait_for()
    assert bodies[-1]["filters"] == {"published_after": "2024-03-05"}
    assert "1,200" not in page.locator("qa-chat .message.assistant").last.inner_text()


def test_citation_link_scrolls_to_and_highlights_the_sentence(host, page):
    from qa.links import sentence_link

    quote = "The owners, Clara and Jon Mills, bake 800 loaves a day."
    page.goto(host.url + "/article.html")
    assert page.evaluate("window.scrollY") == 0
    link = sentence_link(host.url + "/article.html", quote)
    page.goto(link)
    for _ in range(100):  # the host page's CSP forbids wait_for_function's eval
        if page.evaluate("window.scrollY") > 1000:
            break
        page.wait_for_timeout(100)
    # The sentence is in view: Chromium scrolled to the text the fragment names.
    top = page.evaluate("""() => {
        const p = [...document.querySelectorAll('p')].find(e => e.textContent.includes('800'));
        return p.getBoundingClientRect().top; }""")
    assert 0 <= top <= 800


def save_screenshot(page, tmp_path: Path, name: str) -> Path:
    """A PNG of the page in tmp_path and, when QA_SCREENSHOT_DIR is set, there too (to look
    at the layout by eye; the assertions only check geometry)."""
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    if os.environ.get("QA_SCREENSHOT_DIR"):
        keep = Path(os.environ["QA_SCREENSHOT_DIR"])
        keep.mkdir(parents=True, exist_ok=True)
        (keep / name).write_bytes(shot.read_bytes())
    return shot


def snippet_fits(page) -> dict:
    """Where the demo page's embed snippet is, and whether its text is all there to read."""
    return page.evaluate("""() => {
        const e = document.querySelector('pre.snippet');
        const style = getComputedStyle(e);
        return {right: e.getBoundingClientRect().right, viewport: innerWidth,
                scrollWidth: e.scrollWidth, clientWidth: e.clientWidth,
                overflowX: style.overflowX, whiteSpace: style.whiteSpace}; }""")


@pytest.mark.parametrize("width", [360, 1280])
def test_home_page_snippet_fits_and_widget_answers_at_width(api, browser, tmp_path, width):
    server, _ = api
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(server.url + "/")
    # The snippet wraps rather than clipping, at the width asked and at the extremes.
    for w in sorted({360, width, 1440}):
        page.set_viewport_size({"width": w, "height": 800})
        fit = snippet_fits(page)
        assert fit["right"] <= fit["viewport"], (w, fit)
        assert fit["scrollWidth"] <= fit["clientWidth"], (w, fit)
        assert fit["whiteSpace"] == "pre-wrap"
    page.set_viewport_size({"width": width, "height": 800})
    assert page.locator("pre.snippet").inner_text().endswith("defer></script>")
    save_screenshot(page, tmp_path, f"home-{width}-snippet.png")  # the open panel covers it
    # The widget open on an answer with its citation, as a person would see it.
    page.locator("qa-chat .launcher").click()
    page.locator("qa-chat textarea").fill(QUESTION)
    page.locator("qa-chat textarea").press("Enter")
    page.locator("qa-chat .chip").first.click()
    page.locator("qa-chat .source mark").wait_for()
    box = page.locator("qa-chat .panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    shot = save_screenshot(page, tmp_path, f"home-{width}.png")
    assert shot.read_bytes().startswith(b"\x89PNG")
    context.close()


def quote_geometry(page) -> dict:
    """Where the open source card's highlighted quote is, next to the boxes it scrolls in."""
    return page.evaluate("""() => {
        const root = document.querySelector('qa-chat').shadowRoot;
        const text = root.querySelector('.source-text');
        const rect = (e) => { const r = e.getBoundingClientRect();
                              return {top: r.top, bottom: r.bottom, height: r.height}; };
        return {mark: rect(text.querySelector('mark')), text: rect(text),
                log: rect(root.querySelector('.log')), scrollTop: text.scrollTop,
                pageY: window.scrollY}; }""")


def assert_quote_in_view(page) -> None:
    g = quote_geometry(page)
    assert g["mark"]["height"] > 0, g
    # The text box scrolled down past the captions to the quote, which it shows whole...
    assert g["scrollTop"] > 0, g
    assert g["text"]["top"] <= g["mark"]["top"] and g["mark"]["bottom"] <= g["text"]["bottom"], g
    # ...and the conversation shows the quote too; the page itself did not move.
    assert g["log"]["top"] <= g["mark"]["top"] and g["mark"]["bottom"] <= g["log"]["bottom"], g
    assert g["pageY"] == 0


def test_opening_a_citation_scrolls_its_quote_into_view(preamble_api, page):
    page.goto(preamble_api.url + "/")
    page.locator("qa-chat .launcher").click()
    page.locator("qa-chat textarea").fill(HARBOUR_QUESTION)
    page.locator("qa-chat textarea").press("Enter")
    chip = page.locator("qa-chat .chip").first
    chip.click()
    mark = page.locator("qa-chat .source mark")
    mark.wait_for()
    assert mark.inner_text() == "The Porthcove harbour festival drew 9,400 visitors on Sunday."
    assert page.locator("qa-chat .source-text").inner_text().startswith("Photo 1:")
    assert_quote_in_view(page)
    chip.click()  # closed, then opened again: the quote is brought back into view
    assert not mark.is_visible()
    chip.click()
    assert_quote_in_view(page)
    assert page.errors == []
