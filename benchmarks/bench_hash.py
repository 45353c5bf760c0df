"""Hash throughput: decode + PDQ of photos, Suraksha vs python-threatexchange, in one run.

threatexchange (`pdq_hasher.pdq_from_bytes`, what `PdqSignal.hash_from_bytes` calls) decodes the
whole image and hashes the full-size array. Suraksha follows the PDQ reference preparation
(thumbnail to fit 512x512 first, which lets the JPEG decoder work at a reduced DCT scale and makes
the hash bit-exact with the reference); its `fast` mode asks the decoder for the smallest scale that
still covers the thumbnail. Both of ours also compute the eight dihedral variants (the pipeline
always does). Photos are synthetic, generated here into benchmarks/.data/ (gitignored); the second
part uses the shared reference images.

    .venv/bin/python benchmarks/bench_hash.py [--quick]
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from suraksha.signals.pdq import hamming, pdq_dihedral_from_image_bytes, pdq_from_image_bytes

DATA = Path(__file__).resolve().parent / ".data"
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "pdq"
SIZES_MP = {1: (1152, 864), 3: (2048, 1536), 6: (3008, 2000), 12: (4032, 3024)}


def photo(width: int, height: int, seed: int) -> bytes:
    """A photo-like benign picture: smooth gradients, soft shapes and sensor-like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        fx, fy, ph = rng.uniform(0.5, 3, 3)
        img[..., c] = 128 + 60 * np.sin(x / width * fx * np.pi + ph) * np.cos(y / height * fy * np.pi)
    for _ in range(12):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.03, 0.2) * width
        mask = ((x - cx) ** 2 + (y - cy) ** 2) < r * r
        img[mask] = img[mask] * 0.4 + rng.uniform(0, 255, 3) * 0.6
    img += rng.normal(0, 6, img.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def corpus(quick: bool) -> dict[str, list[bytes]]:
    DATA.mkdir(exist_ok=True)
    out: dict[str, list[bytes]] = {}
    per_size = 3 if quick else 6
    for mp, (w, h) in SIZES_MP.items():
        files = []
        for i in range(per_size):
            path = DATA / f"photo-{mp}mp-{i}.jpg"
            if not path.exists():
                path.write_bytes(photo(w, h, seed=mp * 100 + i))
            files.append(path.read_bytes())
        out[f"{mp} MP synthetic"] = files
    if REFERENCE.is_dir():
        out["bridge-mods"] = [p.read_bytes() for p in sorted((REFERENCE / "bridge-mods").glob("*.jpg"))]
        skip = {"bridge-mods"}
        out["other reference"] = [
            p.read_bytes()
            for p in sorted(REFERENCE.rglob("*"))
            if p.suffix.lower() in (".jpg", ".png", ".webp") and p.parent.name not in skip
        ]
    return out


def timed(fn, items, repeat: int) -> tuple[float, list]:
    best = float("inf")
    results: list = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        results = [fn(d) for d in items]
        best = min(best, time.perf_counter() - t0)
    return best / len(items) * 1000, results


def main(argv: list[str]) -> int:
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

    quick = "--quick" in argv
    repeat = 1 if quick else 2
    t_start = time.perf_counter()
    rows = []
    for label, files in corpus(quick).items():
        te_ms, te = timed(lambda d: pdq_from_bytes(d)[0], files, repeat)
        one_ms, _ = timed(lambda d: pdq_from_image_bytes(d).hash, files, repeat)
        ours_ms, ours = timed(lambda d: pdq_dihedral_from_image_bytes(d)[0][1], files, repeat)
        fast_ms, fast = timed(lambda d: pdq_dihedral_from_image_bytes(d, fast=True)[0][1], files, repeat)
        d_te = [hamming(a, b) for a, b in zip(te, ours)]
        d_fast = [hamming(a, b) for a, b in zip(ours, fast)]
        rows.append((label, len(files), te_ms, one_ms, ours_ms, fast_ms, d_te, d_fast))

    print(
        "| photos | n | threatexchange ms | suraksha 1 hash ms | suraksha 8 variants ms | fast 8 variants ms "
        "| 8 variants x te | fast x te | ours vs te bits max/mean | fast vs exact bits max/mean |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, n, te_ms, one_ms, ours_ms, fast_ms, d_te, d_fast in rows:
        print(
            f"| {label} | {n} | {te_ms:.1f} | {one_ms:.1f} | {ours_ms:.1f} | {fast_ms:.1f} | {te_ms / ours_ms:.1f} "
            f"| {te_ms / fast_ms:.1f} | {max(d_te)} / {statistics.mean(d_te):.1f} | {max(d_fast)} / {statistics.mean(d_fast):.2f} |"
        )
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s; best of {repeat} runs per cell; one process, one thread.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
