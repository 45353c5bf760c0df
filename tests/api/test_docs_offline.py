"""``/docs`` and ``/redoc`` work without internet: every script, style and icon they load is served
by Suraksha itself (issue 14.3)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(fake_client, page):
    r = fake_client.get(page)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", r.text) + re.findall(r"""url\s*:\s*['"]([^'"]+)['"]""", r.text)
    assert urls, r.text
    assert not [u for u in urls if "://" in u or u.startswith("//")], urls  # nothing from another host
    assets = [u for u in urls if u.startswith("/docs-assets/")]
    assert assets
    for url in assets:
        got = fake_client.get(url)
        assert got.status_code == 200 and len(got.content) > 100, url
    assert fake_client.get("/openapi.json").json()["info"]["title"] == "Suraksha"


def test_swagger_ui_bundle_is_the_real_script(fake_client):
    js = fake_client.get("/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and "SwaggerUIBundle" in js.text
    assert "javascript" in js.headers["content-type"]
    redoc = fake_client.get("/docs-assets/redoc.standalone.js")
    assert redoc.status_code == 200 and "Redoc" in redoc.text
