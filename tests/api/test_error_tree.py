"""One error tree (``suraksha.errors``), mapped by type in one place each: the API's JSON body, the
web's error page, the CLI's one line. A bug's ``ValueError`` is a logged 500 with an error id,
never a 400; nothing is mapped by message text."""

from __future__ import annotations

import logging
import re

import pytest
import typer
from tests.api.conftest import FakeMatcher, error_of
from typer.testing import CliRunner

from suraksha import errors
from suraksha.cli_support import EXIT_INTERNAL, StartupRefused, guard_commands

# node, HTTP status, code
TREE = [
    (errors.InvalidInput, 400, "bad_request"),
    (errors.TooLarge, 413, "payload_too_large"),
    (errors.UnsupportedMediaType, 415, "unsupported_media_type"),
    (errors.NotFound, 404, "not_found"),
    (errors.Conflict, 409, "conflict"),
    (errors.Forbidden, 403, "forbidden"),
    (errors.Unavailable, 503, "unavailable"),
]

# Area errors keep their names (callers catch them) and answer by the node they sit under.
AREA = [
    ("suraksha.matching.banks", "BankExists", 409, "conflict"),
    ("suraksha.matching.banks", "BankNotFound", 404, "not_found"),
    ("suraksha.auth.service", "UserExists", 409, "conflict"),
    ("suraksha.api.keys", "KeyExists", 409, "conflict"),
    ("suraksha.legal.schemas", "LegalConflict", 409, "conflict"),
    ("suraksha.legal.schemas", "LegalForbidden", 403, "forbidden"),
    ("suraksha.signals.errors", "MediaTooLarge", 413, "media_too_large"),
    ("suraksha.signals.errors", "UnsupportedMedia", 415, "unsupported_media"),
    ("suraksha.signals.errors", "CorruptMedia", 400, "corrupt_media"),
    ("suraksha.pipeline.views", "ItemNotFound", 404, "not_found"),
]


def _probe_client(make_client, exc: BaseException):
    """The real app with one API route and one web-page route that raise ``exc``."""
    client = make_client(matcher_loader=FakeMatcher)

    async def api_probe() -> None:
        raise exc

    async def page_probe() -> None:
        raise exc

    page_probe.__module__ = "suraksha.web.probe"  # a web page is a route whose endpoint lives in suraksha.web
    client.app.add_api_route("/v1/probe", api_probe)
    client.app.add_api_route("/ui/probe", page_probe)
    return client


@pytest.mark.parametrize(("node", "status", "code"), TREE, ids=[n.__name__ for n, _, _ in TREE])
def test_each_node_maps_to_its_status_and_code(make_client, node, status, code):
    client = _probe_client(make_client, node("the reason for the person"))
    r = client.get("/v1/probe")
    assert r.status_code == status
    assert error_of(r) == {"code": code, "message": "the reason for the person"}
    page = client.get("/ui/probe")
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert "the reason for the person" in page.text


@pytest.mark.parametrize(("module", "name", "status", "code"), AREA, ids=[a[1] for a in AREA])
def test_area_errors_answer_by_their_node(make_client, module, name, status, code):
    import importlib

    cls = getattr(importlib.import_module(module), name)
    exc = cls.__new__(cls)
    Exception.__init__(exc, "why")
    client = _probe_client(make_client, exc)
    r = client.get("/v1/probe")
    assert (r.status_code, error_of(r)["code"]) == (status, code)


def test_unavailable_says_when_to_retry(make_client):
    client = _probe_client(make_client, errors.Unavailable("busy", retry_after=7))
    r = client.get("/v1/probe")
    assert r.status_code == 503 and r.headers["retry-after"] == "7"


def test_message_text_is_not_a_status(make_client):
    """'already exists' in a plain InvalidInput is a 400: only the type says 409."""
    client = _probe_client(make_client, errors.InvalidInput("a bank named 'x' already exists"))
    assert client.get("/v1/probe").status_code == 400


def test_duplicate_bank_is_409_by_type(make_client, db_url, auth):
    client = make_client(matcher_loader=FakeMatcher)
    body = {"name": "DUP_TREE", "label": "csam"}
    assert client.post("/v1/banks", json=body, headers=auth).status_code == 201
    r = client.post("/v1/banks", json=body, headers=auth)
    assert r.status_code == 409 and error_of(r)["code"] == "conflict"
    assert "already exists" in error_of(r)["message"]


@pytest.mark.parametrize(
    "bug",
    [ValueError("secret item text"), LookupError("secret item text"), KeyError("secret item text")],
    ids=["ValueError", "LookupError", "KeyError"],
)
def test_a_bug_in_a_service_is_a_logged_500_with_an_error_id(make_client, db_url, auth, monkeypatch, caplog, bug):
    import suraksha.matching.banks as banks

    def broken(*args, **kwargs):
        raise bug

    monkeypatch.setattr(banks, "list_banks", broken)
    client = make_client(matcher_loader=FakeMatcher)
    with caplog.at_level(logging.ERROR, logger="suraksha.api.errors"):
        r = client.get("/v1/banks", headers=auth)
    assert r.status_code == 500
    err = error_of(r)
    assert err["code"] == "internal_error"
    error_id = re.search(r"internal error ([0-9a-f]{12})", err["message"]).group(1)
    assert "secret item text" not in r.text
    logged = [rec.getMessage() for rec in caplog.records if error_id in rec.getMessage()]
    assert logged and "secret item text" not in logged[0]
    # The same on a web page: no 4xx page for a bug.
    page_client = _probe_client(make_client, ValueError("secret item text"))
    page = page_client.get("/ui/probe")
    assert page.status_code == 500 and "secret item text" not in page.text


def test_pydantic_validation_raised_in_a_route_is_422(make_client):
    from pydantic import BaseModel, ValidationError

    class M(BaseModel):
        n: int

    try:
        M(n="not a number")
    except ValidationError as exc:
        caught = exc
    client = _probe_client(make_client, caught)
    r = client.get("/v1/probe")
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_request"
    assert "n:" in error_of(r)["message"]


def test_hma_routes_keep_their_message_key(make_client):
    client = make_client(matcher_loader=FakeMatcher)

    async def hma_probe() -> None:
        raise errors.NotFound("no such bank")

    client.app.add_api_route("/c/probe", hma_probe)
    r = client.get("/c/probe")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "no such bank"}, "message": "no such bank"}


# ------------------------------------------------------------------------------------------------ CLI
def _cli(exc: BaseException) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def boom() -> None:
        raise exc

    @app.command()
    def fine() -> None:
        typer.echo("done")

    guard_commands(app)
    return app


@pytest.mark.parametrize("node", [n for n, _, _ in TREE], ids=[n.__name__ for n, _, _ in TREE])
def test_cli_prints_one_line_for_expected_errors(node):
    r = CliRunner().invoke(_cli(node("the reason")), ["boom"])
    assert r.exit_code == 1
    assert r.output.strip() == "error: the reason"


def test_cli_startup_refusal_exits_2():
    r = CliRunner().invoke(_cli(StartupRefused("database at x is not migrated")), ["boom"])
    assert r.exit_code == 2 and r.output.strip() == "error: database at x is not migrated"


def test_cli_bug_is_an_error_id_and_exit_70_without_traceback(monkeypatch):
    monkeypatch.delenv("SURAKSHA_DEBUG", raising=False)
    r = CliRunner().invoke(_cli(ValueError("secret item text")), ["boom"])
    assert r.exit_code == EXIT_INTERNAL == 70
    assert re.fullmatch(
        r"error: internal error [0-9a-f]{12} \(ValueError\); this is a bug: run again with "
        r"SURAKSHA_DEBUG=1 for the traceback",
        r.output.strip(),
    )
    assert "secret item text" not in r.output and "Traceback" not in r.output


def test_cli_typer_exits_pass_through():
    r = CliRunner().invoke(_cli(typer.Exit(3)), ["boom"])
    assert r.exit_code == 3 and r.output == ""


def test_cli_debug_shows_the_bug(monkeypatch):
    monkeypatch.setenv("SURAKSHA_DEBUG", "1")
    r = CliRunner().invoke(_cli(ValueError("the bug")), ["boom"])
    assert isinstance(r.exception, ValueError) and r.exit_code == 1


def test_every_root_command_answers_through_the_decorator():
    from suraksha.cli import app

    def walk(t: typer.Typer):
        for c in t.registered_commands:
            yield c.callback
        for g in t.registered_groups:
            yield from walk(g.typer_instance)

    callbacks = list(walk(app))
    assert len(callbacks) > 50
    assert all(getattr(cb, "_one_line_errors", False) for cb in callbacks)
