"""PDQ perceptual hashes of images, bit-exact with the reference pipeline.

The reference hasher (facebook/ThreatExchange) shrinks the image to fit 512x512 with PIL's
``thumbnail``, converts to RGB, then hashes. We do the same, after applying the EXIF orientation and
after checking the pixel count from the header, before anything is decoded.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pdqhash
import PIL
from PIL import Image, UnidentifiedImageError

from suraksha.signals.errors import CorruptMedia, InvalidSignal, MediaTooLarge, UnsupportedMedia, reason
from suraksha.signals.formats import PICTURE_RESULT_FORMATS, lock_down_pillow, picture_format

lock_down_pillow()  # only the allowed plugins are loaded up front; Ghostscript can never be started

HASHABLE_QUALITY = 50
REFERENCE_SIZE = (512, 512)
DEFAULT_MAX_PIXELS = 64_000_000
# Names of the eight dihedral variants, in the order pdqhash.compute_dihedral returns them, named as
# in the PDQ reference (reg-test-input/dih/). Each is (within a few bits) the hash of the picture after
# this PIL transform, which the tests check against both PIL and the dih/ images:
#   rotate90 = ROTATE_90 (counter-clockwise), rotate180, rotate270 = ROTATE_270 (clockwise),
#   flipx = FLIP_TOP_BOTTOM (mirror in the x axis), flipy = FLIP_LEFT_RIGHT (mirror in the y axis),
#   transpose = TRANSPOSE (main diagonal), transverse = TRANSVERSE (anti-diagonal).
DIHEDRAL = ("original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "transpose", "transverse")
DIHEDRAL_PIL = {
    "original": None,
    "rotate90": Image.Transpose.ROTATE_90,
    "rotate180": Image.Transpose.ROTATE_180,
    "rotate270": Image.Transpose.ROTATE_270,
    "flipx": Image.Transpose.FLIP_TOP_BOTTOM,
    "flipy": Image.Transpose.FLIP_LEFT_RIGHT,
    "transpose": Image.Transpose.TRANSPOSE,
    "transverse": Image.Transpose.TRANSVERSE,
}
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class PdqResult:
    hash: str  # 64 lowercase hex characters
    quality: int  # 0..100; below 50 the image is too featureless to match safely

    @property
    def hashable(self) -> bool:
        """Quality >= 50: below that PDQ hashes of flat pictures collide too often to act on."""
        return self.quality >= HASHABLE_QUALITY


def normalize_pdq(value: str) -> str:
    """Lower-case 64-hex form, so hashes from any source compare and index as equal strings."""
    v = value.strip().lower() if isinstance(value, str) else ""
    if len(v) != 64 or not set(v) <= _HEX:
        raise InvalidSignal(f"a PDQ hash is 64 hexadecimal characters, got {str(value)[:80]!r}")
    return v


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes (PDQ's distance)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _bits_to_hex(bits: np.ndarray) -> str:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


_EXIF_ORIENTATION = 0x0112
_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def open_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open lazily (header only) and refuse decompression bombs before any pixel is decoded.

    The one way submitted picture bytes reach Pillow: the signature picks the single allowed
    plugin (signals.formats) and only that plugin may read them; anything else is UnsupportedMedia
    before Pillow sees a byte, because Pillow left to itself tries every plugin it has (EPS runs
    Ghostscript).
    """
    fmt = picture_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = img.size
    except Image.DecompressionBombError as exc:  # PIL's own limit (~179 MP), checked while opening
        n = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(n.group(1))} pixels" if n else "too many pixels"
        limit = min(max_pixels, 2 * (Image.MAX_IMAGE_PIXELS or max_pixels))
        raise MediaTooLarge(f"image is {size}, over the limit of {limit}") from None
    except UnidentifiedImageError:  # the signature said fmt, its plugin found no valid header
        raise CorruptMedia(f"{fmt} header is damaged (not a valid {fmt} file)") from None
    except Exception as exc:  # the plugin's header parser
        raise CorruptMedia(f"image header is damaged ({reason(exc)})") from None
    if img.format not in PICTURE_RESULT_FORMATS:  # cannot happen with formats=[fmt]; never decode it
        raise UnsupportedMedia(f"not a picture format Suraksha decodes: {img.format}")
    if width <= 0 or height <= 0:
        raise CorruptMedia("image has no pixels")
    if width * height > max_pixels:
        raise MediaTooLarge(f"image is {width}x{height} = {width * height} pixels, over the limit of {max_pixels}")
    return img


def to_reference_rgb(img: Image.Image, *, fast: bool = False) -> np.ndarray:
    """The reference preparation: thumbnail to fit 512x512, then RGB; EXIF orientation applied.

    ``thumbnail`` on a not-yet-loaded JPEG already decodes at a reduced DCT scale (at least twice
    the target size); ``fast`` asks for the smallest scale that still covers the thumbnail, which is
    quicker and moves the hash by a few bits (max 4 on the reference images; docs/benchmarks.md).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
            except Exception:  # a damaged EXIF block is not a reason to refuse the picture
                orientation = 1
            if fast and img.format == "JPEG":
                img.draft("RGB", _fit(img.size, REFERENCE_SIZE))
            deep = img.mode in ("I", "F") or img.mode.startswith("I;")
            extrema = img.getextrema() if deep else None  # of the full picture: resizing overshoots
            if img.mode in _RESIZE_FIRST:  # modes PIL resizes wrongly (PA loses its palette) or cannot
                img = img.convert(_RESIZE_FIRST[img.mode])
            img = reference_thumbnail(img)
            img = _rgb_capable(img, extrema)  # after the thumbnail: 32-bit pixels are scaled when small
            if orientation in _ORIENT:
                img = img.transpose(_ORIENT[orientation])
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except MemoryError:
        raise MediaTooLarge("image too large to decode") from None
    except Exception as exc:  # every decoder error, whatever PIL plugin raised it
        raise CorruptMedia(f"image data is truncated or damaged ({reason(exc)})") from None


_RESIZE_FIRST = {"PA": "RGBA", "La": "LA"}

_KERNEL_MODES = {"L": 1, "RGB": 3}
_REDUCING_GAP = 2.0
# Pillow 13 runs the vertical pass first when the height shrinks over twice as much as the width
# (python-pillow/Pillow#9549); the two orders round the intermediate differently.
_PILLOW_13 = int(PIL.__version__.split(".")[0]) >= 13


def _vertical_first(size: tuple[int, int], out: tuple[int, int]) -> bool:
    dh, dw = size[1] - out[1], size[0] - out[0]
    return _PILLOW_13 and dh > 0 and dh > dw * 2


def _kernel_resize(kernel, img: Image.Image, out: tuple[int, int], box: tuple[float, float, float, float]) -> Image.Image:
    data = kernel.resample_bicubic(
        img.tobytes(),
        img.size[0],
        img.size[1],
        _KERNEL_MODES[img.mode],
        out[0],
        out[1],
        tuple(float(v) for v in box),
        _vertical_first(img.size, out),
    )
    return Image.frombytes(img.mode, out, data)


def _load_kernel():
    """The compiled resize, if built and if it agrees with this Pillow on a probe (else None: Pillow's own)."""
    try:
        from suraksha.signals import _resample as kernel
    except ImportError:  # no C compiler at install time
        return None
    probe = Image.frombytes("RGB", (61, 53), bytes((i * 37 + i // 61 * 11) % 256 for i in range(61 * 53 * 3)))
    for out, box in (((23, 40), (0.0, 0.0, 61.0, 53.0)), ((40, 9), (2.5, 1.0, 60.0, 52.5)), ((70, 80), (0.0, 0.0, 61.0, 53.0))):
        if _kernel_resize(kernel, probe, out, box).tobytes() != probe.resize(out, Image.Resampling.BICUBIC, box=box).tobytes():
            warnings.warn(
                "suraksha.signals._resample disagrees with this Pillow version; using Pillow's resize",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
    return kernel


_resample = _load_kernel()


def reference_thumbnail(img: Image.Image, size: tuple[int, int] = REFERENCE_SIZE) -> Image.Image:
    """What ``img.thumbnail(size)`` makes (BICUBIC, reducing_gap 2.0), pixel for pixel, faster.

    The steps are Pillow's own (the aspect-preserving size, ``draft`` for JPEG, the integer
    ``reduce`` when the picture is over twice the target); only the final bicubic resize of an 8-bit
    L or RGB picture runs in ``_resample``, whose vectorised loops compute Pillow's fixed-point sums
    exactly (Pillow's scalar loops were half of a 640x480 scan). Other modes, or no compiled kernel,
    use Pillow's resize. tests/signals/test_resample.py compares the two pixel by pixel.
    """
    if _resample is None or img.mode not in _KERNEL_MODES:
        img.thumbnail(size)
        return img
    width, height = img.size
    x, y = size
    if x >= width and y >= height:
        return img
    aspect = width / height
    if x / y >= aspect:
        x = max(min(math.floor(y * aspect), math.ceil(y * aspect), key=lambda n: abs(aspect - n / y)), 1)
    else:
        y = max(min(math.floor(x / aspect), math.ceil(x / aspect), key=lambda n: 0 if n == 0 else abs(aspect - x / n)), 1)
    final = (x, y)
    drafted = img.draft(None, (int(size[0] * _REDUCING_GAP), int(size[1] * _REDUCING_GAP)))
    box = drafted[1] if drafted is not None else (0, 0, *img.size)
    if img.size == final:  # thumbnail resizes only when the (drafted) size differs
        return img
    img.load()
    if img.mode not in _KERNEL_MODES:  # a decoder may deliver another mode than announced
        return img.resize(final, Image.Resampling.BICUBIC, box=box, reducing_gap=_REDUCING_GAP)
    factor_x = int((box[2] - box[0]) / final[0] / _REDUCING_GAP) or 1
    factor_y = int((box[3] - box[1]) / final[1] / _REDUCING_GAP) or 1
    if factor_x > 1 or factor_y > 1:
        support = 2.0 - 0.5  # BICUBIC's support, less half a pixel, as Pillow widens the box
        sx, sy = support * (box[2] - box[0]) / final[0], support * (box[3] - box[1]) / final[1]
        safe = (
            max(0, int(box[0] - sx)),
            max(0, int(box[1] - sy)),
            min(img.size[0], math.ceil(box[2] + sx)),
            min(img.size[1], math.ceil(box[3] + sy)),
        )
        img = img.reduce((factor_x, factor_y), box=safe)
        box = (
            (box[0] - safe[0]) / factor_x,
            (box[1] - safe[1]) / factor_y,
            (box[2] - safe[0]) / factor_x,
            (box[3] - safe[1]) / factor_y,
        )
    return _kernel_resize(_resample, img, final, box)


def _fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The size ``thumbnail`` will produce (rounded up), so draft keeps at least that many pixels."""
    w, h = size
    scale = min(box[0] / w, box[1] / h, 1.0)
    return max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))


def _rgb_capable(img: Image.Image, extrema: tuple | None = None) -> Image.Image:
    """Modes PIL cannot convert to RGB faithfully: 32-bit int/float and 16-bit grey, LAB, HSV.

    Deep grey is mapped to 0..255 from the picture's own range (0..1 floats are the usual
    convention, 8-bit values are kept, anything else is stretched), since PIL would clip it.
    """
    if img.mode in ("I", "F") or img.mode.startswith("I;"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = extrema if extrema else (float(np.nanmin(arr)), float(np.nanmax(arr)))
        lo, hi = float(lo), float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            finite = arr[np.isfinite(arr)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        if img.mode == "F" and lo >= 0.0 and hi <= 1.0:
            scaled = arr * 255.0
        elif lo >= 0 and hi <= 255:
            scaled = arr
        else:
            scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(np.clip(np.nan_to_num(scaled, posinf=255.0, neginf=0.0), 0, 255).astype(np.uint8), "L")
    if img.mode in ("LAB", "HSV"):
        return img.convert("RGB")
    return img


def pdq_from_array(rgb: np.ndarray) -> PdqResult:
    """PDQ of an already prepared HxWx3 uint8 array (video frames, benchmarks)."""
    bits, quality = pdqhash.compute(rgb)
    return PdqResult(_bits_to_hex(bits), int(quality))


def pdq_dihedral_from_array(rgb: np.ndarray) -> tuple[PdqResult, list[tuple[str, str]]]:
    """The hash and its eight rotations/mirrors from one DCT (the cost of about one hash)."""
    all_bits, quality = pdqhash.compute_dihedral(rgb)
    variants = [(name, _bits_to_hex(bits)) for name, bits in zip(DIHEDRAL, all_bits)]
    return PdqResult(variants[0][1], int(quality)), variants


def pdq_from_image_bytes(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, fast: bool = False) -> PdqResult:
    """PDQ of an encoded image, bit-exact with the reference unless ``fast`` (a few bits off, quicker).

    Raises UnsupportedMedia, CorruptMedia or MediaTooLarge (all MediaError); never another error.
    """
    return pdq_from_array(to_reference_rgb(open_image(data, max_pixels=max_pixels), fast=fast))


def pdq_dihedral_from_image_bytes(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, fast: bool = False
) -> list[tuple[str, str]]:
    """``[(transform, hex)]`` for the 8 rotations/mirrors, "original" first, so a rotated or
    mirrored copy of a banked picture still matches."""
    return pdq_dihedral_from_array(to_reference_rgb(open_image(data, max_pixels=max_pixels), fast=fast))[1]
