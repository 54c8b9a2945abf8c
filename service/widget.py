"""The embeddable widget's assets and the demo page."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

# The demo page runs under the strict policy a careful host page would set.
DEMO_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
          "html": "text/html; charset=utf-8"}


@cache
def _asset(name: str) -> bytes:
    return resources.files("service").joinpath("static", name).read_bytes()


def _serve(name: str, **headers: str) -> Response:
    # Host pages on other origins load these; CORP lets them do so even under COEP.
    base = {"Cache-Control": "public, max-age=300",
            "Cross-Origin-Resource-Policy": "cross-origin", "X-Content-Type-Options": "nosniff"}
    return Response(_asset(name), media_type=_TYPES[name.rsplit(".", 1)[1]],
                    headers={**base, **headers})


@router.get("/widget.js")
def widget_js() -> Response:
    """The widget: defines ``<qa-chat>`` and mounts a launcher from its script tag."""
    return _serve("widget.js")


@router.get("/widget.css")
def widget_css() -> Response:
    """The widget's styles, loaded inside its shadow root."""
    return _serve("widget.css")


@router.get("/demo.css")
def demo_css() -> Response:
    """The demo page's own styles."""
    return _serve("demo.css")


@router.get("/")
def demo() -> Response:
    """A demo page with the widget, under a strict Content-Security-Policy."""
    return _serve("demo.html", **{"Content-Security-Policy": DEMO_CSP,
                                  "Cache-Control": "no-cache"})
