"""Work on a request: execute orders through enforcement, gather data, preserve, answer."""

from __future__ import annotations

from typing import Any

import httpx

from suraksha.legal.schemas import DataPointView, RequestView


def execute_order(request_id: int, actor: str, role: str, *, country: str | None = None) -> RequestView:
    """Takedown / blocking / NCII / removal: request one enforcement action per target
    (blocking_order: withhold_in_country, else remove_item / suspend_account) and record what was
    done and when in the request's answer."""
    raise NotImplementedError


def gather(request_id: int, actor: str, *, transport: httpx.BaseTransport | None = None) -> list[DataPointView]:
    """Fill each data point asked for from what Suraksha holds and what the platform connector
    answers (signed ``data_request`` POST). Points found nowhere stay ``pending``."""
    raise NotImplementedError


def mark_data_point(request_id: int, key: str, status: str, reason: str, actor: str) -> DataPointView:
    """Mark a data point ``withheld`` or ``unavailable`` with the reason that goes in the answer."""
    raise NotImplementedError


def preserve_for_request(request_id: int, actor: str) -> list[str]:
    """Preservation: put a legal hold on the evidence of the targets (preserving media still held
    in pending bytes first). Returns the evidence ids held."""
    raise NotImplementedError


def answer_request(request_id: int, note: str, actor: str, role: str, *, details: dict[str, Any] | None = None) -> RequestView:
    """Record the answer to a request that needs no package (a summons reply, a complaint) and
    mark it answered."""
    raise NotImplementedError
