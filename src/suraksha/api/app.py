"""The FastAPI application: ``create_app()`` wires routers, auth, limits, errors and background work.

Startup loads the match index in a background thread, so the server answers at once: ``/status``
says 503 until the index is ready, and lookups say 503 ``index_loading`` meanwhile. ``serve`` also
starts the in-process scan workers and a task that persists the index every few minutes when it
changed, and once more at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suraksha.api.docs import install_docs
from suraksha.api.errors import install_error_handlers
from suraksha.api.limits import BodySizeLimit, RateLimiter, RefuseNulInUrl
from suraksha.api.matcher import MatcherState, default_loader
from suraksha.api.metrics import REQUEST_LATENCY, register_collectors
from suraksha.api.settings import get_api_settings, max_request_bytes
from suraksha.pipeline.worker import start_background_workers

if TYPE_CHECKING:
    from suraksha.dispatch import Dispatcher

log = logging.getLogger(__name__)

DESCRIPTION = """\
Suraksha's REST API. Send `Authorization: Bearer KEY` (create one with `suraksha apikey create NAME`).

* `/v1/...`: items, accounts, banks, hashing and lookup.
* `/h`, `/m`, `/c`: the HMA 2.0-compatible subset (same request and response shapes), so an HMA
  client switches by changing its base URL. They need a key too unless `SURAKSHA_HMA_REQUIRE_KEY=false`.
* `/status`, `/metrics`: health and Prometheus metrics (no key).

Errors are always `{"error": {"code": "...", "message": "..."}}` with a 4xx/5xx status.
"""


class _Latency:
    """Record each request's duration under its route template (bounded label set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            REQUEST_LATENCY.labels(scope.get("method", ""), path, str(status)).observe(time.perf_counter() - start)


def _save_if_changed(state: MatcherState, last: dict[str, Any]) -> None:
    matcher = state.matcher
    if matcher is None:
        return
    stats = matcher.stats()
    if stats != last.get("stats"):
        matcher.save()
        last["stats"] = stats


def create_app(
    *,
    matcher_loader: Callable[[], Any] | None = None,
    workers_in_process: int = 0,
    index_save_seconds: float | None = None,
    max_body_bytes: int | None = None,
    hma_require_key: bool | None = None,
    dispatcher: Dispatcher | None = None,
) -> FastAPI:
    """Build the app.

    ``matcher_loader`` replaces ``get_matcher`` (tests hold the index in "loading");
    ``workers_in_process`` starts that many pipeline scan workers with the app (``serve``);
    ``index_save_seconds`` persists the index periodically and at shutdown (``serve``);
    ``dispatcher`` (a ``suraksha.dispatch.Dispatcher``, the composition root) runs in a thread beside the app, so
    the embedded default delivers actions, reports, review tasks and legal escalations without a
    separate ``suraksha dispatch`` process.
    """
    settings = get_api_settings()
    state = MatcherState(matcher_loader or default_loader)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _configure_models()  # before any thread: a model module half-imported by one thread breaks the others' mappers
        # What start-up loaded (modules, mappers, routes) stays out of full garbage collections, whose
        # 40-80 ms pauses landed on whichever request was running; workers freeze again after a batch.
        from suraksha.pipeline.worker import freeze_current_objects

        freeze_current_objects()
        state.start()
        stop_workers = _start_workers(workers_in_process) if workers_in_process > 0 else None
        stop_dispatcher = _start_dispatcher(dispatcher) if dispatcher is not None else None
        saver: asyncio.Task | None = None
        last: dict[str, Any] = {}
        if index_save_seconds:
            saver = asyncio.create_task(_periodic_save(state, index_save_seconds, last))
        try:
            yield
        finally:
            if saver is not None:
                saver.cancel()
            if stop_dispatcher is not None:
                await asyncio.to_thread(stop_dispatcher)
            if stop_workers is not None:
                await asyncio.to_thread(stop_workers)
            if index_save_seconds:
                try:
                    await asyncio.to_thread(_save_if_changed, state, last)
                except Exception:
                    log.exception("saving the match index at shutdown failed")

    app = FastAPI(
        title="Suraksha",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs from installed assets, not a CDN
        redoc_url=None,
    )
    install_docs(app)
    app.state.matcher_state = state
    app.state.rate_limiter = RateLimiter()
    app.state.hma_require_key = settings.hma_require_key if hma_require_key is None else hma_require_key
    app.state.wait_timeout = settings.wait_timeout_seconds

    from suraksha.web.errors import page_for_route

    install_error_handlers(app, pages=page_for_route)  # expected errors on web pages answer with a page
    register_collectors()

    from suraksha.api.routers import accounts, banks, health, hma, items, lookup
    from suraksha.web.routes import router as web_router

    for module in (items, accounts, banks, lookup, hma, health):
        app.include_router(module.router)
    from suraksha.api.routers import transparency as transparency_router

    app.include_router(transparency_router.router)
    from suraksha.api.routers import legal as legal_router

    app.include_router(legal_router.router)
    from suraksha.api.routers import networks as networks_router

    app.include_router(networks_router.router)
    from suraksha.api.routers import appeals as appeals_router

    app.include_router(appeals_router.router)
    from suraksha.api.routers import outcomes as outcomes_router

    app.include_router(outcomes_router.router)
    app.include_router(web_router)
    from suraksha.api.auth import document_scopes

    document_scopes(app)  # each route's required API key scope, in /docs

    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes or max_request_bytes())
    app.add_middleware(RefuseNulInUrl)
    app.add_middleware(_Latency)
    return app


async def _periodic_save(state: MatcherState, every: float, last: dict[str, Any]) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(_save_if_changed, state, last)
        except Exception:
            log.exception("periodic save of the match index failed")


def _start_workers(n: int) -> Callable[[], None] | None:
    """Start the pipeline's in-process scan workers; returns their stop function."""
    handle = start_background_workers(n)
    if callable(handle):
        return handle
    stop = getattr(handle, "stop", None)
    return stop if callable(stop) else None


def _configure_models() -> None:
    """Import every area's models and configure the mappers once, in the starting thread.

    The index loader, the scan workers and the dispatcher start in threads at the same time; if
    one of them triggered mapper configuration while another was still importing a model module,
    a relationship such as ``Bank.entries`` could not find ``BankEntry`` and that thread failed.
    """
    from sqlalchemy.orm import configure_mappers

    from suraksha.db.models import import_all_models

    import_all_models()
    configure_mappers()


def _start_dispatcher(dispatcher: Dispatcher) -> Callable[[], None]:
    """Run ``dispatcher`` pass after pass in a daemon thread; returns the function that stops it
    (the current pass finishes first, as with SIGTERM to ``suraksha dispatch``)."""
    stop = threading.Event()

    def loop() -> None:
        try:
            dispatcher.run(stop)
        except Exception:  # a failing pass is already logged per step; this is the loop itself
            log.exception("in-process dispatcher stopped")

    thread = threading.Thread(target=loop, name="suraksha-dispatch", daemon=True)
    thread.start()

    def stop_it() -> None:
        stop.set()
        thread.join(timeout=30)

    return stop_it
