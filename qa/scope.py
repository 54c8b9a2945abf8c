"""What a question may search: the articles visible as of a date, narrowed by filters.

Rules (docs/api.md repeats them):

- ``as_of``: an article published after that day is invisible; undated articles stay
  visible (nothing says they are from the future).
- ``published_after`` / ``published_before``: inclusive days; an undated article matches
  no date filter (it cannot be shown to fall inside the range).
- ``sources``: the article's source, case-insensitive (for web pages without a source
  field, the site's host without ``www.``).
- ``article_ids``: exact ids.

Filters combine with AND. The result is a boolean mask over article row ids, applied
inside retrieval (FAISS id selector, a mask over the BM25 scores), so a filter never starves
a search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from index.catalog import UNDATED, Catalog, day_number
from index.records import Article
from index.store import StoreReader
from qa.limits import MAX_FILTER_VALUES


class ScopeError(ValueError):
    """A date or filter that cannot be read; ``param`` names the request field."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass(frozen=True)
class Filters:
    """Explicit restrictions of the searched articles (all optional, combined with AND)."""

    published_after: date | None = None
    published_before: date | None = None
    sources: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing is restricted."""
        return not (self.published_after or self.published_before or self.sources
                    or self.article_ids)


@dataclass(frozen=True)
class Scope:
    """The day a question is asked as of (None: today, UTC) and its filters."""

    as_of: date | None = None
    filters: Filters = field(default_factory=Filters)


def today() -> date:
    """Today in UTC: the default ``as_of``."""
    return datetime.now(UTC).date()


def parse_day(value: object, param: str) -> date | None:
    """A ``YYYY-MM-DD`` day (None stays None); raises ScopeError naming ``param``."""
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) != 10:
        raise ScopeError(f"{param}: expected a date as YYYY-MM-DD, got {value!r}", param)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ScopeError(f"{param}: {value!r} is not a valid date (YYYY-MM-DD)",
                         param) from None


def _strings(value: object, param: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ScopeError(f"{param}: expected a list of strings", param)
    if len(value) > MAX_FILTER_VALUES:
        raise ScopeError(f"{param}: at most {MAX_FILTER_VALUES} values", param)
    return tuple(v for v in value if v.strip())


def parse_scope(as_of: object = None, filters: Mapping[str, object] | None = None,
                prefix: str = "") -> Scope:
    """A Scope from request values (strings, lists); raises ScopeError naming the field.

    ``prefix`` is put before the field names in errors (e.g. ``"filters."`` is added
    for filter fields anyway).
    """
    filters = dict(filters or {})
    known = {"published_after", "published_before", "sources", "article_ids"}
    unknown = sorted(set(filters) - known)
    if unknown:
        raise ScopeError(f"{prefix}filters: unknown filter {unknown[0]!r}; one of "
                         f"{', '.join(sorted(known))}", f"{prefix}filters.{unknown[0]}")
    name = f"{prefix}filters."
    parsed = Filters(
        published_after=parse_day(filters.get("published_after"), name + "published_after"),
        published_before=parse_day(filters.get("published_before"), name + "published_before"),
        sources=_strings(filters.get("sources"), name + "sources"),
        article_ids=_strings(filters.get("article_ids"), name + "article_ids"),
    )
    if (parsed.published_after and parsed.published_before
            and parsed.published_after > parsed.published_before):
        raise ScopeError(f"{name}published_after: {parsed.published_after} is after "
                         f"published_before {parsed.published_before}",
                         name + "published_after")
    return Scope(parse_day(as_of, prefix + "as_of"), parsed)


def visible(catalog: Catalog, store: StoreReader, scope: Scope, as_of: date) -> np.ndarray:
    """The articles (bool by article row id) a question in this scope may use."""
    days = catalog.article_day
    dated = days != UNDATED
    mask = ~dated | (days <= day_number(as_of))
    f = scope.filters
    if f.published_after:
        mask &= dated & (days >= day_number(f.published_after))
    if f.published_before:
        mask &= dated & (days <= day_number(f.published_before))
    if f.sources:
        mask &= np.isin(catalog.article_source, catalog.source_codes(list(f.sources)))
    if f.article_ids:
        chosen = np.zeros(len(days), dtype=bool)
        chosen[store.article_rowids(list(f.article_ids))] = True
        mask &= chosen
    return mask


def article_as_of(store: StoreReader, article_id: str, as_of: date | None) -> Article | None:
    """The article with this id, unless it was published after ``as_of``."""
    article = store.article(article_id)
    return article if article and published_by(article.published, as_of) else None


def missing_article(article_id: str, as_of: date | None) -> str:
    """What to say when ``article_as_of`` finds nothing."""
    return f"no article with id {article_id!r}" + (f" published by {as_of}" if as_of else "")


def published_by(published: str | None, as_of: date | None) -> bool:
    """Whether an article with this ``published`` value may be shown as of a day: always
    without ``as_of``, and always when undated (as retrieval treats them)."""
    if as_of is None or not published:
        return True
    try:
        return date.fromisoformat(published[:10]) <= as_of
    except ValueError:
        return True  # a malformed stored date counts as undated, as in the catalog


def within(catalog: Catalog, start: date, end: date) -> np.ndarray:
    """The dated articles published in ``[start, end]`` (bool by article row id)."""
    days = catalog.article_day
    return (days != UNDATED) & (days >= day_number(start)) & (days <= day_number(end))

