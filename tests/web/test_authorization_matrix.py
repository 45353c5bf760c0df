"""Every route of the app, called as every role and anonymously: the allowed set must be exactly
the declared one. A new route that is not declared here fails the test."""

from __future__ import annotations

import re

import pytest

from .conftest import ROLES, csrf_of, sign_in

ANON = "anonymous"
EVERYONE = frozenset({ANON, *ROLES})
STAFF = frozenset(ROLES)
REVIEW = frozenset({"reviewer", "senior_reviewer"})
MEDIA = frozenset({"reviewer", "senior_reviewer", "legal"})
READERS = frozenset({"reviewer", "senior_reviewer", "legal", "analyst"})
CASE_WRITERS = frozenset({"senior_reviewer", "legal"})
AUDIT = frozenset({"auditor", "admin"})
ADMIN = frozenset({"admin"})
TRANSPARENCY = frozenset({"analyst", "legal"})
LEGAL = frozenset({"legal"})
BANK_READERS = frozenset({"reviewer", "senior_reviewer", "legal", "analyst"})
BANK_MANAGERS = frozenset({"senior_reviewer"})
DELIVERY_READERS = frozenset({"senior_reviewer", "legal", "analyst"})
ACTION_WORKERS = frozenset({"senior_reviewer", "legal"})
ACTORS = frozenset({"reviewer", "senior_reviewer", "legal"})  # items.act
AGENCIES = frozenset({"legal", "admin"})
OFFICERS = frozenset()  # officers' portal pages: an officer session only, never staff (tests/legal/test_portal_web.py)

# (method, path) -> who may call it. API routes (/v1, /h, /m, /c) need an API key: no staff
# session and no anonymous caller gets in (declared below by prefix, checked for every route).
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): EVERYONE,
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    ("GET", "/docs/oauth2-redirect"): EVERYONE,
    ("GET", "/redoc"): EVERYONE,
    ("GET", "/status"): EVERYONE,
    ("GET", "/metrics"): EVERYONE,
    ("GET", "/ui/static/{name}"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/logout"): STAFF,
    ("GET", "/me/password"): STAFF,
    ("POST", "/me/password"): STAFF,
    ("GET", "/me/settings"): STAFF,
    ("POST", "/me/settings"): STAFF,
    ("GET", "/review"): REVIEW,
    ("GET", "/review/queues/{queue}"): REVIEW,
    ("GET", "/review/queues/{queue}/next"): REVIEW,
    ("GET", "/review/tasks/{task_id}"): REVIEW,
    ("POST", "/review/tasks/{task_id}/decide"): REVIEW,
    ("POST", "/review/tasks/{task_id}/escalate"): REVIEW,
    ("GET", "/media/{item_id}/{position}"): MEDIA,
    ("POST", "/media/{item_id}/{position}/reveal"): MEDIA,
    ("GET", "/items/{item_id}"): READERS,
    ("GET", "/accounts/{account_id}"): READERS,
    ("POST", "/accounts/{account_id}/network/suspend"): CASE_WRITERS,  # senior_reviewer, legal (accounts.suspend)
    ("POST", "/items/{item_id}/act"): ACTORS,  # items.act: remove, suspend, restore, report through the outbox
    ("POST", "/accounts/{account_id}/act"): ACTORS,
    ("GET", "/appeals"): REVIEW,
    ("POST", "/appeals/{appeal_id}/decide"): REVIEW,
    ("GET", "/networks"): READERS,  # accounts.read: the list of account networks
    ("GET", "/cases"): READERS,
    ("POST", "/cases"): CASE_WRITERS,
    ("GET", "/cases/{case_id}"): READERS,
    ("POST", "/cases/{case_id}/add"): CASE_WRITERS,
    ("POST", "/cases/{case_id}/status"): CASE_WRITERS,
    ("GET", "/audit"): AUDIT,
    ("GET", "/audit/export.{fmt}"): AUDIT,
    ("GET", "/banks"): BANK_READERS,
    ("POST", "/banks"): BANK_MANAGERS,
    ("GET", "/banks/{name}"): BANK_READERS,
    ("POST", "/banks/{name}/settings"): BANK_MANAGERS,
    ("POST", "/banks/{name}/entries"): BANK_MANAGERS,
    ("POST", "/banks/{name}/entries/{entry_id}/remove"): BANK_MANAGERS,
    ("POST", "/banks/{name}/import"): BANK_MANAGERS,
    ("GET", "/banks/{name}/export.{fmt}"): BANK_MANAGERS,
    ("GET", "/search"): READERS,
    ("GET", "/actions"): DELIVERY_READERS,
    ("GET", "/actions/{action_id}"): DELIVERY_READERS,
    ("POST", "/actions/{action_id}/retry"): ACTION_WORKERS,
    ("GET", "/reports"): DELIVERY_READERS,
    ("GET", "/reports/{report_id}"): DELIVERY_READERS,
    ("POST", "/reports/{report_id}/sent"): LEGAL,
    ("POST", "/reports/{report_id}/acknowledged"): LEGAL,
    ("POST", "/reports/{report_id}/retry"): LEGAL,
    ("GET", "/reports/{report_id}/package.{fmt}"): LEGAL,
    ("GET", "/transparency"): TRANSPARENCY,
    ("GET", "/transparency/download"): TRANSPARENCY,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/{user_id}/{operation}"): ADMIN,
    ("GET", "/legal"): LEGAL,
    ("GET", "/legal/requests"): LEGAL,
    ("GET", "/legal/requests/new"): LEGAL,
    ("POST", "/legal/requests/new"): LEGAL,
    ("GET", "/legal/requests/{request_id}"): LEGAL,
    ("POST", "/legal/requests/{request_id}/checks/{key}"): LEGAL,
    ("POST", "/legal/requests/{request_id}/reminders"): LEGAL,
    ("POST", "/legal/requests/{request_id}/documents"): LEGAL,
    ("POST", "/legal/requests/{request_id}/execute"): LEGAL,
    ("POST", "/legal/requests/{request_id}/targets/{target_id}/done"): LEGAL,
    ("POST", "/legal/requests/{request_id}/preserve"): LEGAL,
    ("POST", "/legal/requests/{request_id}/gather"): LEGAL,
    ("POST", "/legal/requests/{request_id}/data/{key}"): LEGAL,
    ("POST", "/legal/requests/{request_id}/answer"): LEGAL,
    ("POST", "/legal/requests/{request_id}/approve"): LEGAL,
    ("POST", "/legal/requests/{request_id}/disclosure"): LEGAL,
    ("GET", "/legal/disclosures/{disclosure_id}"): LEGAL,
    ("GET", "/legal/agencies"): AGENCIES,
    ("POST", "/legal/agencies"): AGENCIES,
    ("GET", "/legal/officers/{officer_id}/authority"): AGENCIES,
    ("POST", "/legal/officers/{officer_id}/{operation}"): AGENCIES,
    ("GET", "/portal"): OFFICERS,  # redirects to the portal sign-in without an officer session
    ("GET", "/portal/static/portal.css"): EVERYONE,
    ("GET", "/portal/register"): EVERYONE,
    ("POST", "/portal/register"): EVERYONE,
    ("GET", "/portal/confirm"): EVERYONE,
    ("POST", "/portal/confirm"): EVERYONE,
    ("POST", "/portal/mfa"): EVERYONE,
    ("GET", "/portal/login"): EVERYONE,
    ("POST", "/portal/login"): EVERYONE,
    ("POST", "/portal/logout"): OFFICERS,
    ("GET", "/portal/requests"): OFFICERS,
    ("GET", "/portal/requests/new"): OFFICERS,
    ("POST", "/portal/requests/new"): OFFICERS,
    ("GET", "/portal/requests/{request_id}"): OFFICERS,
    ("POST", "/portal/requests/{request_id}/reminder"): OFFICERS,
    ("POST", "/portal/requests/{request_id}/documents"): OFFICERS,
    ("POST", "/portal/requests/{request_id}/checks/{key}"): OFFICERS,
    ("GET", "/portal/disclosures/{disclosure_id}"): OFFICERS,
}
API_KEY_PREFIXES = ("/v1/", "/h/", "/m/", "/c/")


def all_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route, including those of included routers (nested or flattened)."""
    out: list[tuple[str, str]] = []

    def walk(routes, prefix: str) -> None:
        for r in routes:
            original = getattr(r, "original_router", None)
            if original is not None:
                walk(original.routes, prefix + (getattr(r.include_context, "prefix", "") or ""))
            elif getattr(r, "methods", None):
                out.extend((m, prefix + r.path) for m in sorted(r.methods - {"HEAD"}))

    walk(app.routes, "")
    return sorted(set(out))


def expected(method: str, path: str) -> frozenset[str]:
    if (method, path) in MATRIX:
        return MATRIX[(method, path)]
    if path.startswith(API_KEY_PREFIXES):
        return frozenset()
    raise AssertionError(f"route {method} {path} is not declared in the authorisation matrix")


def concrete(path: str, ids: dict, role: str | None) -> str:
    values = {
        "item_id": ids["items"][0],
        "position": 0,
        "task_id": ids["task_id"],
        "account_id": ids["accounts"]["sunrise_42"],
        "case_id": ids["case_id"],
        "user_id": ids["staff"]["analyst"].user_id,
        "operation": "unlock",
        "queue": "csam",
        "name": "review.css",
        "bank_name": "review-demo-csam",
        "entry_id": 1,
        "request_id": 1,
        "disclosure_id": 1,
        "officer_id": 1,
        "key": "rank",
        "ref": "LR-2026-000001",
        "fmt": "csv",
        "action_id": 1,
        "report_id": 1,
        "appeal_id": 1,
        "target_id": 1,
        "content_id": 1,
        "exchange_name": "no-such-exchange",
        "signal_type": "pdq",
        "signal_type_name": "pdq",
        "api_name": "no-such-api",
        "bank": "review-demo-csam",
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values.get(m.group(1), 1)), path)


def denied(status: int, location: str | None, who: str) -> bool:
    if status in (401, 403):
        return True
    if status == 303 and (location or "").startswith("/portal/login"):
        return True  # the officers' portal: staff sessions are strangers there
    return who == ANON and status == 303 and (location or "").startswith("/login")


def test_every_route_allows_exactly_the_declared_roles(app_client, seeded):
    from suraksha.cases.service import Actor, create_case

    senior = seeded["staff"]["senior_reviewer"]
    seeded["case_id"] = create_case("matrix case", Actor(senior.user_id, senior.username, senior.role))
    from sqlalchemy import select

    from suraksha.cases.models import ReviewTask
    from suraksha.db import session_scope

    with session_scope() as s:
        seeded["task_id"] = s.scalar(select(ReviewTask.id).order_by(ReviewTask.id))

    client = app_client()
    routes = all_routes(client.app)
    assert len(routes) >= len(MATRIX)
    for method, path in routes:
        expected(method, path)  # every route declared
    assert set(MATRIX) <= set(routes), f"declared but missing: {set(MATRIX) - set(routes)}"

    observed: dict[tuple[str, str], set[str]] = {r: set() for r in routes}
    problems = []
    for who in (ANON, *ROLES):
        c = app_client()
        headers = {}
        if who != ANON:
            assert sign_in(c, seeded["staff"][who]).status_code == 303
            headers["X-CSRF-Token"] = csrf_of(c)
        # Sign out last: it ends the session the other calls need.
        for method, path in sorted(routes, key=lambda r: r == ("POST", "/logout")):
            url = concrete(path, seeded, who)
            r = c.request(method, url, headers=headers, data={} if method != "GET" else None, follow_redirects=False)
            if r.status_code >= 500:
                problems.append(f"{who} {method} {url}: {r.status_code}")
            if not denied(r.status_code, r.headers.get("location"), who):
                observed[(method, path)].add(who)
    assert not problems, problems
    mismatches = {
        f"{m} {p}": {"expected": sorted(expected(m, p)), "observed": sorted(observed[(m, p)])}
        for m, p in routes
        if observed[(m, p)] != set(expected(m, p))
    }
    assert not mismatches, mismatches


def test_anonymous_browser_is_sent_to_sign_in_and_posts_are_refused(app_client, seeded):
    c = app_client()
    r = c.get("/review/queues/csam?stage=open", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Freview%2Fqueues%2Fcsam%3Fstage%3Dopen"
    r = c.post(f"/media/{seeded['items'][0]}/0/reveal")
    assert r.status_code == 401 and "sign in" in r.text.lower()


def test_post_without_csrf_token_is_refused_and_changes_nothing(app_client, seeded):
    from suraksha.cases.service import exposure_today

    c = app_client()
    reviewer = seeded["staff"]["reviewer"]
    assert sign_in(c, reviewer).status_code == 303
    r = c.post(f"/media/{seeded['items'][0]}/0/reveal")
    assert r.status_code == 403 and "security token" in r.text
    r = c.post(f"/media/{seeded['items'][0]}/0/reveal", headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert exposure_today(reviewer.user_id) == 0
    r = c.post(f"/media/{seeded['items'][0]}/0/reveal", headers={"X-CSRF-Token": csrf_of(c)})
    assert r.status_code == 200 and r.json()["exposure_today"] == 1


@pytest.mark.parametrize("role", ["analyst", "auditor", "admin"])
def test_roles_without_media_get_403_for_media_and_no_media_elements(app_client, seeded, role):
    c = app_client()
    assert sign_in(c, seeded["staff"][role]).status_code == 303
    item = seeded["items"][0]
    r = c.get(f"/media/{item}/0")
    assert r.status_code == 403 and b"\xff\xd8" not in r.content
    page = c.get(f"/items/{item}")
    if role == "analyst":
        assert page.status_code == 200
        assert "<img" not in page.text and "<video" not in page.text and f"/media/{item}/" not in page.text
        assert "pdq" in page.text and "sha256" in page.text  # hashes and metadata are there
    else:
        assert page.status_code == 403


def test_media_is_sent_no_store_and_missing_media_says_so(app_client, seeded, reference_dir):
    c = app_client()
    assert sign_in(c, seeded["staff"]["legal"]).status_code == 303
    r = c.get(f"/media/{seeded['items'][0]}/0")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    # The default answer is the server-blurred preview, never the original (tests/web/test_media_preview.py).
    assert r.content != (reference_dir / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    assert r.headers["x-suraksha-media"] == "image"
    r = c.get(f"/media/{seeded['items'][2]}/0")
    assert r.status_code == 404 and r.headers["cache-control"] == "no-store" and "not retained" in r.text
    page = c.get(f"/items/{seeded['items'][2]}")
    assert "media not retained" in page.text
