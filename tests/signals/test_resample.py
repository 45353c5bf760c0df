"""The compiled bicubic resize is Pillow's, pixel for pixel (so PDQ stays bit-exact with the reference)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from suraksha.signals import pdq

kernel = pytest.importorskip("suraksha.signals._resample", reason="the C resize kernel was not built")


def test_the_kernel_is_in_use():
    """Built and in agreement with this Pillow (the import-time probe did not switch it off)."""
    assert pdq._resample is kernel


def _picture(rng, w, h, mode):
    """Smooth fields plus noise and hard edges: every tap weight (also the negative lobes) matters."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.sin(xx * rng.uniform(0.01, 0.3)) * 100 + np.cos(yy * rng.uniform(0.01, 0.3)) * 60 + 128
    arr = np.stack([base, base[::-1], base[:, ::-1]], -1) + rng.normal(0, 30, (h, w, 3))
    arr[(xx // 7 + yy // 5) % 4 == 0] = (255, 0, 255)  # saturated edges make the clip8 rounding matter
    img = Image.fromarray(arr.clip(0, 255).astype("uint8"), "RGB")
    return img.convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "L"])
@pytest.mark.parametrize("simd", [True, False])
def test_resize_equals_pillow_for_random_sizes_and_boxes(mode, simd):
    rng = np.random.default_rng(7)
    for _ in range(40):
        w, h = int(rng.integers(1, 900)), int(rng.integers(1, 900))
        img = _picture(rng, w, h, mode)
        out = (int(rng.integers(1, 600)), int(rng.integers(1, 600)))
        x0, y0 = rng.uniform(0, w / 3), rng.uniform(0, h / 3)
        box = (float(x0), float(y0), float(rng.uniform(x0 + 0.5, w)), float(rng.uniform(y0 + 0.5, h)))
        for b in (None, box):
            want = img.resize(out, Image.Resampling.BICUBIC, box=b)
            got = kernel.resample_bicubic(
                img.tobytes(),
                w,
                h,
                len(mode),
                *out,
                b or (0.0, 0.0, float(w), float(h)),
                pdq._vertical_first((w, h), out),
                not simd,
            )
            assert got == want.tobytes(), (w, h, out, b)


@pytest.mark.parametrize(
    "size,fmt,mode",
    [
        ((640, 480), "JPEG", "RGB"),
        ((4000, 3000), "JPEG", "RGB"),
        ((2600, 1100), "PNG", "RGB"),
        ((1500, 1499), "PNG", "L"),
        ((513, 100), "PNG", "RGB"),
        ((300, 200), "PNG", "RGB"),
        ((1025, 2049), "JPEG", "L"),
        ((3000, 7), "PNG", "L"),
    ],
)
def test_reference_thumbnail_equals_pillow_thumbnail(size, fmt, mode):
    """Draft (JPEG), reduce (over twice the target) and the resize: the same picture as PIL's thumbnail."""
    img = _picture(np.random.default_rng(size[0]), *size, mode)
    buf = io.BytesIO()
    img.save(buf, fmt)
    want = Image.open(io.BytesIO(buf.getvalue()))
    want.thumbnail(pdq.REFERENCE_SIZE)
    got = pdq.reference_thumbnail(Image.open(io.BytesIO(buf.getvalue())))
    assert got.size == want.size and got.mode == want.mode
    assert got.tobytes() == want.tobytes()


def test_bad_buffer_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="does not match"):
        kernel.resample_bicubic(b"\x00" * 10, 4, 4, 3, 2, 2, (0.0, 0.0, 4.0, 4.0))
