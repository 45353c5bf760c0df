"""PDQ: bit-exact with the reference, every PIL mode, EXIF orientation, rotations and mirrors."""

from __future__ import annotations

import pytest

from suraksha.signals import media_signals
from suraksha.signals.errors import InvalidSignal
from suraksha.signals.pdq import DIHEDRAL, hamming, normalize_pdq, pdq_dihedral_from_image_bytes, pdq_from_image_bytes


def _expected(reference_dir):
    rows = []
    for line in (reference_dir / "pdq/expected.tsv").read_text().splitlines():
        path, digest = line.split("\t")
        if (reference_dir / "pdq" / path).exists():
            rows.append((path, digest))
    return rows


def test_bit_exact_with_reference_for_hashable_images(reference_dir):
    rows = _expected(reference_dir)
    assert len(rows) >= 17
    checked = 0
    for path, digest in rows:
        result = pdq_from_image_bytes((reference_dir / "pdq" / path).read_bytes())
        if result.quality < 50:
            continue
        assert result.hash == digest, f"{path}: distance {hamming(result.hash, digest)}"
        checked += 1
    assert checked >= 14


def test_low_quality_is_reported_not_an_error(reference_dir):
    for name in ("q0003.jpg", "q0004.jpg"):
        result = pdq_from_image_bytes((reference_dir / "pdq/reg-test-input/labelme-subset" / name).read_bytes())
        assert result.quality < 50 and not result.hashable


def test_every_pil_mode_and_format_hashes_alike(reference_dir):
    folder = reference_dir / "pdq/misc-images/modes"
    original = pdq_from_image_bytes((folder / "original.jpg").read_bytes())
    files = sorted(folder.iterdir())
    assert len(files) >= 14
    for path in files:
        result = pdq_from_image_bytes(path.read_bytes())
        assert result.quality >= 50, path.name
        # The same picture in another mode stays a near-duplicate (1-bit modes lose the most).
        assert hamming(result.hash, original.hash) <= 31, path.name


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "PA", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "I", "I;16", "F", "F-nan"])
def test_generated_pictures_in_every_mode(reference_dir, mode):
    """The reference modes/ files are partly re-encoded (its .webp ones open as RGB), so each PIL
    mode is also generated here, saved in a format that keeps it, and must hash near the RGB original."""
    import io

    import numpy as np
    from PIL import Image

    rgb = Image.open(reference_dir / "pdq/misc-images/modes/original.jpg").convert("RGB")
    rgb.thumbnail((800, 800))
    original = pdq_from_image_bytes(_encode(rgb, "PNG"))
    if mode in ("I", "I;16", "F", "F-nan"):
        grey = np.asarray(rgb.convert("L"), dtype=np.float64)
        scale = {"I": 70_000.0, "I;16": 250.0, "F": 1 / 255, "F-nan": 1000.0}[mode]  # beyond 8 bits; 0..1 floats
        dtype = {"I": np.int32, "I;16": np.uint16, "F": np.float32, "F-nan": np.float32}[mode]
        arr = (grey * scale - (1_000_000 if mode == "I" else 0)).astype(dtype)
        if mode == "F-nan":
            arr[:40, :40], arr[-1, -1] = np.nan, np.inf  # a float image with holes must still hash
            mode = "F"
        img = Image.fromarray(arr)
        assert img.mode == mode
    elif mode == "PA":
        p = rgb.convert("P")
        img = p.convert("PA")
        img.putpalette(p.getpalette())  # PIL drops the palette in P -> PA
    elif mode == "P":
        img = rgb.convert("P")
        img.info["transparency"] = 0  # palette with a transparent entry
    else:
        img = rgb.convert(mode)
    fmt = {"CMYK": "JPEG", "YCbCr": "JPEG", "LAB": "TIFF", "I": "TIFF", "I;16": "TIFF", "F": "TIFF", "PA": "TIFF"}.get(
        mode, "PNG"
    )
    if mode == "HSV":  # no file format stores HSV; hash the decoded picture the way bytes are hashed
        from suraksha.signals.pdq import pdq_from_array, to_reference_rgb

        result = pdq_from_array(to_reference_rgb(img))
    else:
        data = _encode(img, fmt)
        if mode != "YCbCr":  # JPEG returns YCbCr as RGB
            assert Image.open(io.BytesIO(data)).mode == mode
        result = pdq_from_image_bytes(data)
    assert result.hashable and hamming(result.hash, original.hash) <= 40, (mode, hamming(result.hash, original.hash))


def _encode(img, fmt: str) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def test_exif_orientation_is_applied(reference_dir):
    """A photo is hashed as it is displayed: upright, whatever the stored pixel orientation."""
    from PIL import Image

    from suraksha.signals.pdq import open_image, to_reference_rgb

    folder = reference_dir / "pdq/reg-test-input/exif-rotn"
    expected_transform = {1: "original", 3: "rotate180", 6: "rotate270", 8: "rotate90"}
    for tag, transform in expected_transform.items():
        data = (folder / f"exif-rotn-{tag}.jpg").read_bytes()
        shape = to_reference_rgb(open_image(data)).shape
        stored = Image.open(folder / f"exif-rotn-{tag}.jpg").size  # raw pixels are landscape
        assert stored[0] > stored[1]
        assert (shape[0] > shape[1]) == (tag in (6, 8)), f"tag {tag}: displayed shape {shape}"
        # The hash of the displayed picture is exactly one rotation of the stored pixels' hash.
        # (PDQ's dihedral variants are close to, not bit-identical with, hashing the rotated pixels.)
        upright = pdq_from_image_bytes(data).hash
        raw = dict(_raw_dihedral(folder / f"exif-rotn-{tag}.jpg"))
        assert min(raw, key=lambda t: hamming(upright, raw[t])) == transform, f"tag {tag}"
        assert hamming(upright, raw[transform]) <= 24, f"tag {tag}"


def _raw_dihedral(path):
    import numpy as np
    import pdqhash
    from PIL import Image

    img = Image.open(path)
    img.thumbnail((512, 512))
    bits, _ = pdqhash.compute_dihedral(np.asarray(img.convert("RGB")))
    return [(name, np.packbits(b.astype(np.uint8)).tobytes().hex()) for name, b in zip(DIHEDRAL, bits)]


def test_dihedral_variants_are_named_correctly(reference_dir):
    folder = reference_dir / "pdq/reg-test-input/dih"
    variants = dict(pdq_dihedral_from_image_bytes((folder / "bridge-1-original.jpg").read_bytes()))
    assert list(variants) == list(DIHEDRAL)
    files = {
        "bridge-2-rotate-90.jpg": "rotate90",
        "bridge-3-rotate-180.jpg": "rotate180",
        "bridge-4-rotate-270.jpg": "rotate270",
        "bridge-5-flipx.jpg": "flipx",
        "bridge-6-flipy.jpg": "flipy",
        "bridge-7-flip-plus-1.jpg": "transpose",
        "bridge-8-flip-minus-1.jpg": "transverse",
    }
    for name, transform in files.items():
        h = pdq_from_image_bytes((folder / name).read_bytes()).hash
        nearest = min(variants, key=lambda t: hamming(h, variants[t]))
        assert nearest == transform, name
        assert hamming(h, variants[transform]) <= 20, name
        assert hamming(h, variants["original"]) > 80, name  # without transforms it would not match


def test_media_signals_for_image(reference_dir):
    data = (reference_dir / "pdq/misc-images/c.png").read_bytes()
    ms = media_signals(data, "application/octet-stream")  # declared type is not trusted
    assert ms.kind == "image" and ms.pdq.hash == "e64cc9d91e623842f8d1f1d9a398e78c9f199a3bd87924f2b7e11e0bf061b064"
    assert [t for t, _ in ms.pdq_dihedral][0] == "original" and ms.pdq_dihedral[0][1] == ms.pdq.hash
    import hashlib

    assert ms.sha256 == hashlib.sha256(data).hexdigest() and ms.md5 == hashlib.md5(data).hexdigest()


def test_fast_path_stays_close(reference_dir):
    """Decode-time downscaling moves hashes by a few bits at most (observed: max 4, mostly 0)."""
    distances = {}
    for path in sorted((reference_dir / "pdq").rglob("*")):
        if path.suffix.lower() in (".jpg", ".png", ".webp"):
            data = path.read_bytes()
            distances[path.name] = hamming(pdq_from_image_bytes(data).hash, pdq_from_image_bytes(data, fast=True).hash)
    assert len(distances) >= 45
    assert max(distances.values()) <= 6, distances
    assert sum(distances.values()) / len(distances) <= 1.0


def test_bridge_edits_match_the_original(reference_dir):
    folder = reference_dir / "pdq/bridge-mods"
    original = pdq_from_image_bytes((folder / "aaa-orig.jpg").read_bytes())
    edits = [p for p in sorted(folder.glob("*.jpg")) if p.name != "aaa-orig.jpg"]
    assert len(edits) == 11
    for path in edits:
        for fast in (False, True):
            result = pdq_from_image_bytes(path.read_bytes(), fast=fast)
            assert result.hashable and hamming(result.hash, original.hash) <= 31, (path.name, fast)


def test_dihedral_names_mean_the_pil_transform(reference_dir):
    """Each named variant is the hash of the picture after the PIL transform of the same name."""
    import numpy as np
    from PIL import Image

    from suraksha.signals.pdq import DIHEDRAL_PIL, open_image, pdq_dihedral_from_array, pdq_from_array, to_reference_rgb

    for rel in ("pdq/reg-test-input/dih/bridge-1-original.jpg", "pdq/misc-images/c.png"):
        rgb = to_reference_rgb(open_image((reference_dir / rel).read_bytes()))
        _, variants = pdq_dihedral_from_array(rgb)
        variants = dict(variants)
        for name, transform in DIHEDRAL_PIL.items():
            img = Image.fromarray(rgb)
            moved = pdq_from_array(np.asarray(img if transform is None else img.transpose(transform))).hash
            nearest = min(variants, key=lambda t: hamming(moved, variants[t]))
            assert nearest == name, (rel, name, nearest)
            assert hamming(moved, variants[name]) <= 24, (rel, name)


@pytest.mark.parametrize("value", ["", "xyz", "f" * 63, "f" * 65, "g" * 64, None])
def test_malformed_pdq_strings(value):
    with pytest.raises(InvalidSignal, match="64 hexadecimal"):
        normalize_pdq(value)


def test_pdq_normalised_lowercase():
    assert normalize_pdq(" " + "AB" * 32 + "\n") == "ab" * 32
