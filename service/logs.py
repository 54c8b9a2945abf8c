"""Structured logs: one JSON object a line (plain, readable lines on a terminal).

structlog renders; the standard library's handlers carry the lines, so uvicorn's own
messages and ours leave the process the same way.
"""

from __future__ import annotations

import logging
import sys

import structlog

_configured = False


def configure_logging(json_lines: bool | None = None, level: int = logging.INFO) -> None:
    """Route every log line through structlog: JSON lines unless stderr is a terminal
    (``json_lines`` decides when given). Idempotent."""
    global _configured
    if _configured:
        return
    _configured = True
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    shared = [structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
              structlog.processors.TimeStamper(fmt="iso", utc=True)]
    renderer = (structlog.processors.JSONRenderer() if json_lines
                else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared]))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


# Until configure_logging() runs (``qa serve``, ``qa mcp``, ``qa index sync``), lines go
# through the standard library as key=value text: an embedding app's own handlers decide,
# and nothing is printed behind their back.
structlog.configure(
    processors=[structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.KeyValueRenderer(key_order=["event"])],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=False,
)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger."""
    return structlog.get_logger(name)
