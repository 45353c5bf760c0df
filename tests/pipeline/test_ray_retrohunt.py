"""Retro-hunts on Ray (a local cluster of 2 CPUs): the same findings and stored results as in process."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import numpy as np
import pytest
import ray
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from suraksha.cli import app
from suraksha.db import session_scope
from suraksha.items.models import Item, ItemMatch
from suraksha.matching import banks
from suraksha.matching.banks import SignalRow
from suraksha.matching.matcher import get_matcher, reset_matcher
from suraksha.pipeline import archive as arch
from suraksha.pipeline import backfill as bf
from suraksha.pipeline import scan as scan_mod
from suraksha.pipeline.archive.hunt import hunt_in_process, hunt_on_ray
from suraksha.settings import reset_settings

from .conftest import b64
from .test_archive import drain
from .test_backfill import row, write_jsonl

runner = CliRunner()
SINCE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def archive_dir(tmp_path, monkeypatch):
    folder = tmp_path / "archive"
    monkeypatch.setenv("SURAKSHA_ARCHIVE_URL", str(folder))
    reset_settings()
    arch.reset_writer()
    reset_matcher()
    scan_mod.set_scanner(None)
    yield folder
    arch.reset_writer()
    reset_matcher()


def _hex(bits: np.ndarray) -> str:
    return np.packbits(bits).tobytes().hex()


def _near(bits: np.ndarray, rng: np.random.Generator, flips: int) -> np.ndarray:
    out = bits.copy()
    out[rng.choice(256, flips, replace=False)] ^= 1
    return out


def synthetic_archive(folder, rng: np.random.Generator, n: int, banked: list[np.ndarray]) -> None:
    """``n`` media rows with random PDQs (some within a few bits of a banked one) and some link rows."""
    rows = []
    day = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    for i in range(n):
        bits = _near(banked[i % len(banked)], rng, int(rng.integers(0, 40))) if i % 50 == 0 else rng.integers(0, 2, 256, np.uint8)
        rows.append(
            {
                "item_id": 100_000 + i,
                "platform_id": f"syn-{i}",
                "country": ("IN", "FR", "US")[i % 3],
                "created_at": day + dt.timedelta(days=i % 20),
                "media_position": 0,
                "kind": "image",
                "sha256": hashlib.sha256(str(i).encode()).hexdigest(),
                "md5": hashlib.md5(str(i).encode()).hexdigest(),
                "pdq": _hex(bits),
                "pdq_quality": 100,
            }
        )
        if i % 97 == 0:
            rows.append({**rows[-1], "media_position": None, "kind": "link", "url": f"https://bad-{i % 2}.example/p/{i}"})
    arch.open_archive(str(folder)).write(rows)


def test_ray_finds_what_the_process_finds_on_the_same_archive(db_url, local_ray, archive_dir):
    rng = np.random.default_rng(7)
    banked = [rng.integers(0, 2, 256, np.uint8) for _ in range(40)]
    banks.create_bank("exchange-csam", label="csam")
    banks.add_signals("exchange-csam", [SignalRow("pdq", _hex(b)) for b in banked])
    banks.create_bank("csam-links", label="csam_url")
    banks.add_signals("csam-links", [SignalRow("domain", "bad-1.example")])
    banks.create_bank("known-fine", label="csam", negative=True)  # a known false positive suppresses its query
    banks.add_signals("known-fine", [SignalRow("pdq", _hex(banked[3]))])
    synthetic_archive(archive_dir, rng, 3000, banked)

    archive = arch.open_archive()
    files = archive.files()
    assert len(files) == 60  # one file per (jurisdiction, day): 3 x 20

    def rows(tables) -> list[tuple]:
        return sorted(tuple(r.values()) for t in tables for r in t.to_pylist())

    since = dt.datetime(2024, 5, 3, tzinfo=dt.UTC)
    local = rows(hunt_in_process(archive, files, get_matcher(), since=since))
    on_ray = rows(hunt_on_ray("local", archive, files, since=since, workers=2))
    assert on_ray == local
    kinds = {r[5] for r in local}
    assert kinds == {"pdq", "domain"} and len(local) > 20  # both kinds of finding are in the comparison
    assert all((r[0] - 100_000) % 20 >= 2 for r in local)  # nothing posted before `since`


def _photo(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:256, 0:256]
    base = np.stack([(x + y) % 256, (x * 2) % 256, (255 - y) % 256], axis=-1).astype(np.float64)
    blobs = rng.normal(0, 40, (8, 8, 3)).repeat(32, 0).repeat(32, 1)
    return Image.fromarray(np.clip(base + blobs, 0, 255).astype(np.uint8))


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_rescan_on_ray_stores_the_database_rescans_result(db_url, local_ray, archive_dir, tmp_path):
    export = write_jsonl(
        tmp_path / "h.jsonl",
        [
            row(1, year=2022, media=[{"data_base64": b64(_jpeg(_photo(1))), "mime": "image/jpeg"}]),
            row(2, year=2022, media=[{"data_base64": b64(_jpeg(_photo(2))), "mime": "image/jpeg"}]),
        ],
    )
    bf.run_backfill(export)
    drain(scan_mod.get_scanner())
    arch.flush_archive()
    banks.create_bank("exchange-csam", label="csam")
    banks.add_content("exchange-csam", _jpeg(_photo(1), 60))  # the same picture re-encoded

    result = runner.invoke(app, ["rescan", "--since", "2022-01-01", "--ray", "local", "--ray-workers", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["engine"], summary["items_matched"], summary["new_matches"]) == ("ray", 1, 1)
    with session_scope() as s:
        match = s.scalars(select(ItemMatch)).one()
        item = s.get(Item, match.item_id)
    assert (item.platform_id, item.verdict, match.signal_type) == ("post-1", "remove", "pdq")
    # What the database rescan would have stored is there already: it finds nothing new.
    again = runner.invoke(app, ["rescan", "--since", "2022-01-01", "--json"])
    assert json.loads(again.stdout)["new_matches"] == 0
