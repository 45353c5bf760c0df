"""Hash throughput: decode + PDQ of JPEG photos, Suraksha vs python-threatexchange, one run.

threatexchange decodes the whole image and hashes the full-size array. Suraksha follows the PDQ
reference preparation (thumbnail to fit 512x512 first, which lets the JPEG decoder work at a reduced
DCT scale), and its `fast` mode asks the decoder for the smallest scale that still covers 512 px.
Both of ours also compute the eight dihedral variants. Photos are synthetic (generated here).

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

from suraksha.signals.pdq import hamming, pdq_dihedral_from_image_bytes

DATA = Path(__file__).resolve().parent / ".data"
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


def corpus(quick: bool) -> dict[int, list[bytes]]:
    DATA.mkdir(exist_ok=True)
    out = {}
    per_size = 3 if quick else 6
    for mp, (w, h) in SIZES_MP.items():
        files = []
        for i in range(per_size):
            path = DATA / f"photo-{mp}mp-{i}.jpg"
            if not path.exists():
                path.write_bytes(photo(w, h, seed=mp * 100 + i))
            files.append(path.read_bytes())
        out[mp] = files
    return out


def timed(fn, items, repeat: int) -> tuple[float, list]:
    best = float("inf")
    results = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        results = [fn(d) for d in items]
        best = min(best, time.perf_counter() - t0)
    return best / len(items) * 1000, results


def main(argv: list[str]) -> int:
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

    quick = "--quick" in argv
    repeat = 1 if quick else 2
    rows = []
    for mp, files in corpus(quick).items():
        te_ms, te = timed(lambda d: pdq_from_bytes(d)[0], files, repeat)
        ours_ms, ours = timed(lambda d: pdq_dihedral_from_image_bytes(d)[0][1], files, repeat)
        fast_ms, fast = timed(lambda d: pdq_dihedral_from_image_bytes(d, fast=True)[0][1], files, repeat)
        d_ref = [hamming(a, b) for a, b in zip(te, ours)]
        d_fast = [hamming(a, b) for a, b in zip(ours, fast)]
        rows.append((mp, len(files), te_ms, ours_ms, fast_ms, d_ref, d_fast))
    print(f"{'photo':>6} {'n':>3} {'threatexchange ms':>18} {'suraksha ms':>12} {'fast ms':>8} {'x te':>6} {'fast x te':>9} "
          f"{'dist ours-te max/mean':>22} {'dist fast-ours max/mean':>24}")
    for mp, n, te_ms, ours_ms, fast_ms, d_ref, d_fast in rows:
        print(f"{mp:>4}MP {n:>3} {te_ms:>18.1f} {ours_ms:>12.1f} {fast_ms:>8.1f} {te_ms / ours_ms:>6.1f} {te_ms / fast_ms:>9.1f} "
              f"{max(d_ref):>12}/{statistics.mean(d_ref):<9.1f} {max(d_fast):>13}/{statistics.mean(d_fast):<9.1f}")
    print("ours and fast include the 8 dihedral variants; threatexchange computes one hash.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
