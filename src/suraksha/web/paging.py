"""Paging for the staff lists: a page number from the query string and the links a page shows
("page 2 of 15 · 737 in all · previous / next"), keeping the list's filters in every link."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import Request

from suraksha.errors import InvalidInput

MAX_PAGE = 10**6


def page_number(request: Request, name: str = "page") -> int:
    """The 1-based page asked for; a bad value is a 400 with the reason."""
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidInput(f"{name} must be a whole number from 1 to {MAX_PAGE}, got {raw[:20]!r}")
    return int(raw)


@dataclass(frozen=True)
class Pager:
    page: int
    per_page: int
    total: int
    base: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def first(self) -> int:
        return self.offset + 1 if self.total and self.offset < self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + self.per_page, self.total)

    def url(self, page: int) -> str:
        params = {**self.params, "page": str(page)} if page > 1 else dict(self.params)
        return self.base + ("?" + urlencode(params) if params else "")

    @property
    def prev_url(self) -> str | None:
        return self.url(self.page - 1) if self.page > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.page + 1) if self.page < self.pages else None
