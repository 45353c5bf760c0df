"""Backfill and rescan throughput: `suraksha backfill` of a JSONL export, scanned by the worker pool.

Two exports are generated in a temporary folder:
- text/link items (text with a link, one more link, an account, the original `created_at`);
- image items, one generated benign 256x256 JPEG each (blocky noise over a gradient, ~4.5 KB), inline base64.
Printed per export: ingest items/s — `suraksha backfill EXPORT --no-wait --max-queued 0` alone
(reading, validating, storing items and scan jobs with their checkpoint; nothing scans) — and
end-to-end items/s — `suraksha backfill EXPORT --workers 0` into a second database while two
`suraksha worker` processes (one thread each) scan, until the last verdict is recorded; all on the
same machine as the database. Then a
`csam`-labelled bank receives the PDQ of 1% of the pictures and `suraksha rescan` matches every
stored image item's signals again: rescan items/s and the matches it found.

    python benchmarks/bench_backfill.py [--quick] [--pg URL] [--sqlite-only]

--quick: 10,000 text items and 1,000 images, SQLite only unless --pg is given (under two minutes);
full: 100,000 and 10,000, on SQLite and on PostgreSQL ($SURAKSHA_TEST_DATABASE_URL or --pg).
python-threatexchange has no equivalent (it hashes and matches single files; it has no item store,
queue, checkpointed import or rescan), so there is no side-by-side column.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SURAKSHA = [sys.executable, "-c", "import sys; from suraksha.cli import app; sys.exit(app())"]


def make_pictures(n: int, seed: int = 1) -> list[bytes]:
    """Benign generated pictures: a colour gradient with blocky noise, 256x256 JPEG (~4.5 KB)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:256, 0:256]
    out = []
    for _ in range(n):
        a, b = rng.uniform(0.3, 1.5, 2)
        base = np.stack([(xx * a) % 256, (yy * b) % 256, ((xx + yy) * 0.5) % 256], -1)
        noise = rng.normal(0, 35, (16, 16, 3)).repeat(16, 0).repeat(16, 1)
        img = (base + noise).clip(0, 255).astype("uint8")
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=80)
        out.append(buf.getvalue())
    return out


def when(n: int) -> str:
    start = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    return (start + dt.timedelta(minutes=17 * n)).isoformat()


def write_text_export(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            f.write(
                json.dumps(
                    {
                        "platform_id": f"t{i}",
                        "account": {"id": f"a{i % 1000}"},
                        "text": f"old post number {i}, see https://site{i % 50}.example/p/{i}",
                        "links": [f"https://links.example/{i}"],
                        "context": {"created_at": when(i), "country": "IN"},
                    }
                )
                + "\n"
            )


def write_image_export(path: Path, pictures: list[bytes]) -> None:
    with path.open("w") as f:
        for i, data in enumerate(pictures):
            f.write(
                json.dumps(
                    {
                        "platform_id": f"i{i}",
                        "account": {"id": f"a{i % 1000}"},
                        "media": [{"data_base64": base64.b64encode(data).decode(), "mime": "image/jpeg"}],
                        "context": {"created_at": when(i), "country": "IN"},
                    }
                )
                + "\n"
            )


def database(kind: str, pg_url: str | None, tmp: Path):
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    name = f"suraksha_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return pg_url.rsplit("/", 1)[0] + "/" + name, drop


def suraksha(args: list[str], env: dict) -> dict:
    done = subprocess.run([*SURAKSHA, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"suraksha {' '.join(args)} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _env(url: str, home: Path) -> dict:
    env = {**os.environ, "SURAKSHA_DATABASE_URL": url, "SURAKSHA_HOME": str(home), "SURAKSHA_WORKER_BATCH": "8"}
    subprocess.run([*SURAKSHA, "db", "upgrade"], env=env, check=True, capture_output=True)
    return env


def run_backend(ingest_url: str, e2e_url: str, tmp: Path, n_text: int, pictures: list[bytes]) -> dict:
    text_export, image_export = tmp / "text.jsonl", tmp / "images.jsonl"
    write_text_export(text_export, n_text)
    write_image_export(image_export, pictures)
    exports = (("text", text_export), ("image", image_export))
    result: dict = {name: {"mb": export.stat().st_size / 1e6} for name, export in exports}

    # 1. Ingest alone: nothing scans, reading never pauses (--max-queued 0).
    env = _env(ingest_url, tmp / "home-ingest")
    for name, export in exports:
        s = suraksha(["backfill", str(export), "--workers", "0", "--no-wait", "--max-queued", "0", "--json"], env)
        assert s["ingested"] == s["rows_read"], s
        result[name]["ingest"] = s["rows_read_now"] / s["read_s"]

    # 2. End to end with two worker processes, reading paced by the queue (default --max-queued).
    env = _env(e2e_url, tmp / "home")
    workers = [
        subprocess.Popen(
            [*SURAKSHA, "worker", "--poll-interval", "0.02"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(2)
    ]
    try:
        time.sleep(3)  # the workers import and open the matcher
        for name, export in exports:
            s = suraksha(["backfill", str(export), "--workers", "0", "--json"], env)
            assert s["ingested"] == s["rows_read"] and s["pending_scans"] == 0, s
            result[name].update(n=s["ingested"], end_to_end=s["rows_read_now"] / s["elapsed_s"], verdicts=s["verdicts"])
    finally:
        for p in workers:
            p.terminate()
        for p in workers:
            p.wait(30)

    # 3. 1% of the pictures become "known" after the fact (benign stand-ins); a rescan finds them.
    os.environ.update(SURAKSHA_DATABASE_URL=e2e_url, SURAKSHA_HOME=env["SURAKSHA_HOME"])
    from suraksha.config import reset_settings
    from suraksha.db.session import reset_engine
    from suraksha.matching import banks

    reset_settings()
    reset_engine()
    banks.create_bank("late-csam", label="csam")
    known = pictures[::100]
    for data in known:
        banks.add_content("late-csam", data)
    reset_engine()
    r = suraksha(["rescan", "--since", "2000-01-01", "--bank", "late-csam", "--json"], env)
    result["rescan"] = {
        "n": r["items_checked"],
        "per_s": r["items_checked"] / r["elapsed_s"],
        "matched": r["items_matched"],
        "expected": len(known),
    }
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="10,000 text items and 1,000 images")
    ap.add_argument("--pg", help="PostgreSQL URL (default for full runs: $SURAKSHA_TEST_DATABASE_URL)")
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    if args.pg is None and not args.quick:
        args.pg = os.environ.get("SURAKSHA_TEST_DATABASE_URL")
    n_text, n_img = (10_000, 1_000) if args.quick else (100_000, 10_000)
    t0 = time.perf_counter()
    pictures = make_pictures(n_img)
    rows = []
    for kind in ["sqlite"] + (["postgresql"] if args.pg and not args.sqlite_only else []):
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "a").mkdir()
            (Path(tmp) / "b").mkdir()
            ingest_url, drop_a = database(kind, args.pg, Path(tmp) / "a")
            e2e_url, drop_b = database(kind, args.pg, Path(tmp) / "b")
            try:
                rows.append((kind, run_backend(ingest_url, e2e_url, Path(tmp), n_text, pictures)))
            finally:
                drop_a()
                drop_b()
    print(
        f"\nbackfill: 1 reader process + 2 `suraksha worker` processes, {os.cpu_count()} CPUs; "
        f"{n_text:,} text/link items, {n_img:,} images (256x256 JPEG, inline base64)"
    )
    print(f"{'backend':<11} {'export':<7} {'items':>8} {'MB':>6} {'ingest items/s':>15} {'end-to-end items/s':>19}  verdicts")
    for kind, r in rows:
        for name in ("text", "image"):
            x = r[name]
            print(
                f"{kind:<11} {name:<7} {x['n']:>8,} {x['mb']:>6.1f} {x['ingest']:>15,.0f} {x['end_to_end']:>19,.0f}  {x['verdicts']}"
            )
    print(f"\n{'backend':<11} {'rescan items':>13} {'items/s':>9} {'matched':>8} {'banked':>7}")
    for kind, r in rows:
        x = r["rescan"]
        print(f"{kind:<11} {x['n']:>13,} {x['per_s']:>9,.0f} {x['matched']:>8} {x['expected']:>7}")
    print(f"\ntargets (ingest, DESIGN.md): text >= 500/s, images >= 100/s on 2 cores; total run {time.perf_counter() - t0:.0f} s")
    print("python-threatexchange: no equivalent (no item store, queue, resumable import or rescan)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
