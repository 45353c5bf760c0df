"""HMA 2.0's end-to-end flow replayed over HTTP against Suraksha (issue 14.5): create a bank, add
content by file and by signal, look up by hash and by file, the index status, disable, delete;
every answer is checked against the shapes of HMA's published OpenAPI (OpenMediaMatch's
``schemas/*.py``, BSD licence: Copyright (c) Meta Platforms, Inc. and affiliates), encoded below.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pdqhash
import pytest
from PIL import Image
from tests.api.conftest import needs_signals, png_bytes, settle

# ------------------------------------------------------------------ HMA's response shapes
# A shape is a type, a (type, ...) union, a dict {key: shape} (keys ending in "?" are optional,
# no other key allowed), a list [shape] (every element), or a ("map", shape) (any string keys).
INT, STR, BOOL, NUM = int, str, bool, (int, float)
BANK_CONFIG = {"name": STR, "matching_enabled_ratio": NUM}  # schemas.curation.BankConfig
METADATA = {"content_id?": STR, "content_uri?": STR, "json?": dict, "collab?": dict}  # BankedContentMetadata
BANK_CONTENT = {  # schemas.curation.BankContentResponse
    "id": INT,
    "disable_until_ts": INT,
    "original_media_uri?": (STR, type(None)),
    "bank": BANK_CONFIG,
    "signals?": ("map", STR),
    "metadata?": METADATA,
    "note?": STR,
}
ADDED = {"id": INT, "signals": ("map", STR)}  # curation._bank_add_signals
MATCH = {"bank_content_id": INT, "distance": STR}  # schemas.matching.MatchWithDistance
LOOKUP = ("map", [MATCH])  # {bank: [match]}
LOOKUP_BY_TYPE = ("map", LOOKUP)
RAW_LOOKUP = {"matches": [(INT, MATCH)]}  # schemas.matching.RawLookupResponse
INDEX_STATUS = ("map", {"present": BOOL, "built_to": INT, "size": INT})  # matching.index_status
TYPE_INDEX = ("map", {"db_size": INT, "index_size": INT, "index_out_of_date": BOOL, "newest_db_item": INT, "index_built_to": INT})
SIGNAL_TYPE = {"name": STR, "enabled_ratio": NUM}  # schemas.curation.SignalTypeConfig
CONTENT_TYPE = {"name": STR, "enabled": BOOL}  # schemas.curation.ContentTypeConfig
ERROR = {"message": STR, "details?": (STR, type(None)), "error?": dict}  # schemas.shared.ErrorResponse (+ Suraksha's)
SUCCESS = {"message": STR}  # schemas.shared.SuccessResponse
FETCH_STATUS = {"last_fetch_time": (INT, type(None)), "checkpoint_time": (INT, type(None)), "success": BOOL}
API_CONFIG = {"supports_authentification": BOOL, "has_set_authentification": BOOL}


def conforms(value: Any, shape: Any, where: str = "$") -> None:
    if isinstance(shape, dict):
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        keys = {k.rstrip("?"): k.endswith("?") for k in shape}
        extra = set(value) - set(keys)
        assert not extra, f"{where}: keys HMA does not have: {sorted(extra)}"
        for key, optional in keys.items():
            if key not in value:
                assert optional, f"{where}: missing {key!r}"
                continue
            conforms(value[key], shape[key + "?" if optional else key], f"{where}.{key}")
    elif isinstance(shape, list):
        assert isinstance(value, list), f"{where}: expected a list, got {value!r}"
        for n, v in enumerate(value):
            conforms(v, shape[0], f"{where}[{n}]")
    elif isinstance(shape, tuple) and shape and shape[0] == "map":
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        for k, v in value.items():
            assert isinstance(k, str)
            conforms(v, shape[1], f"{where}.{k}")
    elif isinstance(shape, tuple) and any(isinstance(s, (dict, list)) for s in shape):
        errors = []
        for s in shape:
            try:
                conforms(value, s, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: matches no alternative: {errors}")
    else:
        if shape in (INT, NUM) or (isinstance(shape, tuple) and INT in shape):
            assert not isinstance(value, bool), f"{where}: a bool where HMA has a number"
        assert isinstance(value, shape), f"{where}: expected {shape}, got {value!r}"


def ok(r, shape, status: int = 200) -> Any:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    conforms(body, shape)
    return body


def err(r, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    conforms(r.json(), ERROR)
    return r.json()["message"]


def test_conforms_catches_wrong_shapes():
    with pytest.raises(AssertionError):
        conforms({"name": "A"}, BANK_CONFIG)
    with pytest.raises(AssertionError):
        conforms({"A": [{"bank_content_id": 1, "distance": 0}]}, LOOKUP)
    with pytest.raises(AssertionError):
        conforms({"matches": [True]}, RAW_LOOKUP)
    conforms({"matches": [1, {"bank_content_id": 1, "distance": "0"}]}, RAW_LOOKUP)


# ------------------------------------------------------------------ the flow
def test_hma_end_to_end_flow(client, auth, bridge):
    needs_signals()
    original, blurred = bridge
    c, h = client, auth

    # create a bank (HMA's body) and see it listed
    assert ok(c.post("/c/banks", json={"name": "E2E_BANK"}, headers=h), BANK_CONFIG, 201) == {
        "name": "E2E_BANK",
        "matching_enabled_ratio": 1.0,
    }
    assert "already exists" in err(c.post("/c/banks", json={"name": "E2E_BANK"}, headers=h), 403)
    assert {"name": "E2E_BANK", "matching_enabled_ratio": 1.0} in ok(c.get("/c/banks", headers=h), [BANK_CONFIG])
    assert ok(c.get("/c/bank/E2E_BANK", headers=h), BANK_CONFIG)["name"] == "E2E_BANK"
    assert err(c.get("/c/bank/NOPE", headers=h), 404) == "bank 'NOPE' not found"

    # add content by file (with HMA's metadata) and by signal
    photo = ok(
        c.post(
            "/c/bank/E2E_BANK/content",
            files={"photo": ("orig.jpg", original, "image/jpeg")},
            data={"metadata": '{"content_id": "post-1", "json": {"k": "v"}}', "note": "seed photo"},
            headers=h,
        ),
        ADDED,
    )
    assert list(photo["signals"]) == ["pdq"]
    rng = np.random.default_rng(14)
    examples = ["".join(f"{b:02x}" for b in rng.integers(0, 256, 32)) for _ in range(5)]  # far apart
    by_signal = [ok(c.post("/c/bank/E2E_BANK/signal", json={"pdq": pdq}, headers=h), ADDED) for pdq in examples]
    assert len({b["id"] for b in by_signal} | {photo["id"]}) == 6
    md5 = ok(c.post("/c/bank/E2E_BANK/signal", json={"video_md5": "d41d8cd98f00b204e9800998ecf8427e"}, headers=h), ADDED)
    settle()

    # the index status
    status = ok(c.get("/m/index/status", params={"signal_type": "pdq"}, headers=h), INDEX_STATUS)
    assert list(status) == ["pdq"] and status["pdq"]["present"] is True and status["pdq"]["size"] >= 6
    assert status["pdq"]["built_to"] > 0
    assert "No such signal type" in err(c.get("/m/index/status", params={"signal_type": "shoe"}, headers=h), 400)
    types = ok(c.get("/c/signal_type/index", params={"signal_type": "pdq"}, headers=h), TYPE_INDEX)
    assert types["pdq"]["db_size"] >= 6 and types["pdq"]["index_out_of_date"] is False
    assert {"name": "pdq", "enabled_ratio": 1.0} in ok(c.get("/c/signal_type", headers=h), [SIGNAL_TYPE])
    assert ok(c.get("/c/content_type", headers=h), [CONTENT_TYPE]) == [
        {"name": "photo", "enabled": True},
        {"name": "video", "enabled": True},
    ]

    # look up by hash and by file: content ids, HMA's shapes
    pdq = photo["signals"]["pdq"]
    assert ok(c.get("/m/lookup", params={"signal_type": "pdq", "signal": examples[-1]}, headers=h), LOOKUP) == {
        "E2E_BANK": [{"bank_content_id": by_signal[-1]["id"], "distance": "0"}]
    }
    assert ok(c.get("/m/lookup", params={"signal_type": "pdq", "signal": "5" * 64}, headers=h), LOOKUP) == {}
    raw = ok(
        c.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": pdq, "include_distance": "true"}, headers=h), RAW_LOOKUP
    )
    assert raw == {"matches": [{"bank_content_id": photo["id"], "distance": "0"}]}
    got = ok(c.post("/m/lookup", files={"photo": ("blur.jpg", blurred, "image/jpeg")}, headers=h), LOOKUP_BY_TYPE)
    assert [m["bank_content_id"] for m in got["pdq"]["E2E_BANK"]] == [photo["id"]]
    md5_hit = ok(
        c.get("/m/lookup", params={"signal_type": "video_md5", "signal": "d41d8cd98f00b204e9800998ecf8427e"}, headers=h),
        LOOKUP,
    )
    assert md5_hit == {"E2E_BANK": [{"bank_content_id": md5["id"], "distance": "0"}]}
    # the photo's own MD5 was banked with it; a hit on it answers the photo's content id
    import hashlib

    photo_md5 = hashlib.md5(original).hexdigest()
    assert ok(c.get("/m/raw_lookup", params={"signal_type": "md5", "signal": photo_md5}, headers=h), RAW_LOOKUP) == {
        "matches": [photo["id"]]
    }

    # compare
    cmp = c.post("/m/compare", json={"pdq": [pdq, pdq]}, headers=h)
    assert cmp.status_code == 200 and cmp.json() == {"pdq": [True, {"distance": 0}]}
    assert "exactly 2" in err(c.post("/m/compare", json={"pdq": [pdq]}, headers=h), 400)

    # the content, with its signals and metadata
    content = ok(c.get(f"/c/bank/E2E_BANK/content/{photo['id']}", params={"include_signals": "true"}, headers=h), BANK_CONTENT)
    assert content["disable_until_ts"] == 1 and content["bank"] == {"name": "E2E_BANK", "matching_enabled_ratio": 1.0}
    assert content["signals"]["pdq"] == pdq and content["signals"]["photo_md5"] == photo_md5
    assert content["metadata"] == {"content_id": "post-1", "json": {"k": "v"}} and content["note"] == "seed photo"
    assert err(c.get("/c/bank/E2E_BANK/content/999999999", headers=h), 404) == "content '999999999' not found"

    # disable: no match any more; enable: matches again
    ok(c.put(f"/c/bank/E2E_BANK/content/{photo['id']}", json={"disable_until_ts": 0}, headers=h), BANK_CONTENT)
    settle()
    assert ok(c.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq}, headers=h), LOOKUP) == {}
    assert "0 (disabled) or 1 (enabled)" in err(
        c.put(f"/c/bank/E2E_BANK/content/{photo['id']}", json={"disable_until_ts": 4_000_000_000}, headers=h), 400
    )
    back = ok(c.put(f"/c/bank/E2E_BANK/content/{photo['id']}", json={"disable_until_ts": 1}, headers=h), BANK_CONTENT)
    assert back["disable_until_ts"] == 1
    settle()
    assert ok(c.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq}, headers=h), LOOKUP) != {}

    # disable the bank, rename it, delete content, delete the bank
    assert ok(c.put("/c/bank/E2E_BANK", json={"enabled": False}, headers=h), BANK_CONFIG)["matching_enabled_ratio"] == 0.0
    settle()
    assert ok(c.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq}, headers=h), LOOKUP) == {}
    renamed = ok(c.put("/c/bank/E2E_BANK", json={"name": "E2E_RENAMED", "enabled_ratio": 1.0}, headers=h), BANK_CONFIG)
    assert renamed == {"name": "E2E_RENAMED", "matching_enabled_ratio": 1.0}
    assert "fully or not at all" in err(c.put("/c/bank/E2E_RENAMED", json={"enabled_ratio": 0.5}, headers=h), 400)
    settle()
    assert list(ok(c.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq}, headers=h), LOOKUP)) == ["E2E_RENAMED"]
    deleted = c.delete(f"/c/bank/E2E_RENAMED/content/{photo['id']}", headers=h)
    assert deleted.status_code == 200 and deleted.json() == {"deleted": 3}  # its SHA-256, MD5 and PDQ
    assert c.delete(f"/c/bank/E2E_RENAMED/content/{photo['id']}", headers=h).json() == {"deleted": 0}
    settle()
    assert ok(c.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq}, headers=h), LOOKUP) == {}
    assert ok(c.delete("/c/bank/E2E_RENAMED", headers=h), SUCCESS) == {"message": "Done"}
    assert err(c.get("/c/bank/E2E_RENAMED", headers=h), 404)
    settle()
    ex = examples[-1]
    assert ok(c.get("/m/lookup", params={"signal_type": "pdq", "signal": ex}, headers=h), LOOKUP) == {}


def test_hma_computed_hash_matches_a_rotated_upload(client, auth, reference_dir):
    """HMA ignores EXIF orientation, so it banks the stored pixels' PDQ; a file lookup on the HMA
    routes tries each bank's rotations and mirrors (as /v1 does) and still finds it."""
    needs_signals()

    path = reference_dir / "pdq" / "reg-test-input" / "exif-rotn" / "exif-rotn-6.jpg"
    if not path.exists():
        pytest.skip("reference exif-rotn images not present")
    pixels = np.asarray(Image.open(path).convert("RGB"))  # no EXIF transpose: what HMA hashes
    bits, _quality = pdqhash.compute(pixels)
    hma_hash = np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()
    ours = client.post("/h/hash", files={"photo": ("r.jpg", path.read_bytes(), "image/jpeg")}, headers=auth).json()["pdq"]
    assert ours != hma_hash  # Suraksha turns the picture upright first
    assert ok(client.post("/c/banks", json={"name": "ROT_BANK"}, headers=auth), BANK_CONFIG, 201)
    added = ok(client.post("/c/bank/ROT_BANK/signal", json={"pdq": hma_hash}, headers=auth), ADDED)
    settle()
    got = ok(
        client.post("/m/lookup", files={"photo": ("exif-rotn-6.jpg", path.read_bytes(), "image/jpeg")}, headers=auth),
        LOOKUP_BY_TYPE,
    )
    assert [m["bank_content_id"] for m in got["pdq"].get("ROT_BANK", [])] == [added["id"]], got
    # the bank's setting decides: without transforms the rotated copy is not matched
    client.patch("/v1/banks/ROT_BANK", json={"match_transforms": False}, headers=auth)
    settle()
    got = client.post("/m/lookup", files={"photo": ("x.jpg", path.read_bytes(), "image/jpeg")}, headers=auth).json()
    assert "ROT_BANK" not in got["pdq"]


def test_exchanges_and_apis(client, auth, tmp_path):
    needs_signals()
    c, h = client, auth
    apis = c.get("/c/exchanges/apis", headers=h).json()
    assert "file" in apis and "ncmec" in apis
    conforms(c.get("/c/exchanges/api/file", headers=h).json(), API_CONFIG)
    schema = c.get("/c/exchanges/api/ncmec/schema", headers=h).json()
    env = next(f for f in schema["config_schema"]["fields"] if f["name"] == "environment")
    assert env["required"] is True and env["choices"]
    assert err(c.get("/c/exchanges/api/shoe/schema", headers=h), 404)
    assert err(c.post("/c/exchanges", json={"bank": "lower", "api": "file"}, headers=h), 400)
    hashes = tmp_path / "hashes.txt"
    hashes.write_text("")
    created = c.post("/c/exchanges", json={"bank": "E2E_FILE", "api": "file", "api_json": {"filename": str(hashes)}}, headers=h)
    assert created.status_code == 201 and created.json() == {"message": "Created successfully"}
    assert "E2E_FILE" in c.get("/c/exchanges", headers=h).json()
    shown = c.get("/c/exchange/E2E_FILE", headers=h).json()
    assert shown["name"] == "E2E_FILE" and shown["api"] == "file" and shown["enabled"] is True
    assert shown["filename"] == str(hashes)
    conforms(c.get("/c/exchange/E2E_FILE/status", headers=h).json(), FETCH_STATUS)
    assert c.put("/c/exchange/E2E_FILE", json={"enabled": False}, headers=h).json()["enabled"] is False
    assert ok(c.delete("/c/exchange/E2E_FILE", headers=h), SUCCESS) == {"message": "Exchange deleted"}
    assert err(c.get("/c/exchange/E2E_FILE", headers=h), 404)
    assert err(c.get("/c/bank/E2E_FILE", headers=h), 404)


def test_generated_picture_added_by_file_matches_by_file(client, auth):
    needs_signals()
    ok(client.post("/c/banks", json={"name": "GEN_BANK", "enabled": True}, headers=auth), BANK_CONFIG, 201)
    pic = png_bytes(seed=3, size=256)
    added = ok(client.post("/c/bank/GEN_BANK/content", files={"photo": ("g.png", pic, "image/png")}, headers=auth), ADDED)
    settle()
    got = ok(client.post("/m/lookup", files={"photo": ("g.png", pic, "image/png")}, headers=auth), LOOKUP_BY_TYPE)
    assert got["pdq"]["GEN_BANK"] == [{"bank_content_id": added["id"], "distance": "0"}]
