"""The platform submits a user's appeal through the API (scope ``appeals``) and reads its outcome."""

from __future__ import annotations

from fastapi.testclient import TestClient

from suraksha.cases import service as review
from suraksha.dispatch import deliver


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_platform_submits_an_appeal_and_reads_its_outcome(review_env, actors):
    from suraksha.api import create_app
    from suraksha.api.keys import create_key
    from suraksha.cases import appeals

    deliver("review")
    item = review_env["items"][3]
    task = [t.id for t in review.list_tasks(actors["rita"], "default") if t.item_id == item][0]
    review.decide(task, actors["rita"], "other", None, "spam")
    _, key = create_key("platform", scopes=["appeals"])
    _, scan_only = create_key("scanner")
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        body = {"platform_item_id": "demo-post-4", "platform_appeal_id": "ap-9", "statement": "not spam"}
        assert c.post("/v1/appeals", json=body, headers=_bearer(scan_only)).status_code == 403
        assert c.post("/v1/appeals", json=body).status_code == 401
        bad = c.post("/v1/appeals", json={"statement": "x"}, headers=_bearer(key))
        assert bad.status_code == 422 and "exactly one" in bad.text
        r = c.post("/v1/appeals", json=body, headers=_bearer(key))
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["status"] == "open" and made["original_decision"] == "other" and made["item_id"] == item
        again = c.post("/v1/appeals", json=body, headers=_bearer(key))
        assert again.status_code == 200 and again.json()["id"] == made["id"]
        other = c.post("/v1/appeals", json={**body, "platform_appeal_id": "ap-10"}, headers=_bearer(key))
        assert other.status_code == 409
        nothing = c.post("/v1/appeals", json={"platform_item_id": "demo-post-3"}, headers=_bearer(key))
        assert nothing.status_code == 400 and "nothing to appeal" in nothing.text
        missing = c.post("/v1/appeals", json={"platform_item_id": "no-such"}, headers=_bearer(key))
        assert missing.status_code == 404

        appeals.decide(made["id"], actors["raj"], "restored", "not spam after all")
        r = c.get(f"/v1/appeals/{made['id']}", headers=_bearer(key))
        assert r.status_code == 200 and r.json()["status"] == "restored" and r.json()["decided_at"]
