"""The process's match index as the API sees it: loading in the background, ready, or failed.

Apart from ``app`` so routers can depend on ``request_matcher`` without importing the app module
that imports them (it was an import cycle).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import Request

from suraksha.api.errors import ApiError

log = logging.getLogger(__name__)


class MatcherState:
    """The process's matcher as seen by the API: loading, ready, or failed."""

    def __init__(self, loader: Callable[[], Any]) -> None:
        self._loader = loader
        self.matcher: Any = None
        self.error: str | None = None
        self.started_at = time.time()
        self.ready_at: float | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._load, name="suraksha-index-load", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            self.matcher = self._loader()
            self.ready_at = time.time()
        except Exception as exc:  # reported by /status; lookups answer 503
            log.exception("match index failed to load")
            self.error = f"{type(exc).__name__}: {exc}"

    def require(self) -> Any:
        if self.matcher is not None:
            return self.matcher
        if self.error:
            raise ApiError(503, "index_unavailable", f"match index failed to load: {self.error}")
        raise ApiError(503, "index_loading", "match index is loading; retry shortly", {"Retry-After": "2"})


def default_loader() -> Any:
    """The matching area's process-wide matcher (``create_app`` takes another loader in tests)."""
    from suraksha.matching.matcher import get_matcher

    return get_matcher()


def request_matcher(request: Request) -> Any:
    """Dependency: the loaded matcher, or 503 while it loads."""
    return request.app.state.matcher_state.require()
