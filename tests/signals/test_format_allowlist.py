"""Only the documented picture and video formats are decoded; nothing else reaches a decoder, and no
external program ever runs on submitted bytes (issue 11, point 1: an EPS was handed to Ghostscript)."""

from __future__ import annotations

import contextlib
import io

import pytest
from PIL import Image

from suraksha.signals import media_signals, sniff_kind
from suraksha.signals.errors import CorruptMedia, MediaError, UnsupportedMedia
from suraksha.signals.pdq import open_image, pdq_from_image_bytes
from suraksha.signals.video import vpdq_from_bytes

from .media_samples import ALLOWED_VIDEOS, EPS, REFUSED, REFUSED_CODECS, no_child_process

PREFIX = "not a picture or video format Suraksha decodes: "


def _sample(make) -> bytes:
    try:
        return make()
    except (OSError, KeyError, ValueError) as exc:  # an encoder this Pillow/FFmpeg build lacks
        pytest.skip(f"cannot make the sample here: {exc}")


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_formats_name_what_was_sent(name):
    data = _sample(REFUSED[name][0])
    for mime in (None, "image/jpeg", "image/png", "video/mp4"):  # the declared type changes nothing
        with pytest.raises(UnsupportedMedia) as refused:
            media_signals(data, mime)
        message = str(refused.value)
        assert message.startswith(PREFIX) and REFUSED[name][1] in message and "\n" not in message, message
    assert sniff_kind(data) is None


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_every_decoder_entry_refuses_them(name):
    """Pictures (hashing, review previews, NudeNet) and video (vPDQ) open through the same allow-list."""
    from suraksha.cases.media import make_preview
    from suraksha.classify.base import ClassifierError
    from suraksha.classify.nudenet import NudeNetClassifier

    data = _sample(REFUSED[name][0])
    with pytest.raises(UnsupportedMedia):
        open_image(data)
    with pytest.raises(UnsupportedMedia):
        pdq_from_image_bytes(data)
    with pytest.raises(UnsupportedMedia):
        vpdq_from_bytes(data)
    with pytest.raises(UnsupportedMedia):
        vpdq_from_bytes(io.BytesIO(data))
    preview = make_preview(data)
    assert preview.kind == "placeholder" and preview.reason.startswith(PREFIX), preview.reason
    classifier = NudeNetClassifier()
    with pytest.raises(ClassifierError, match="not a picture format"):
        classifier._decode_image(data)
    with pytest.raises(ClassifierError, match="not a video format"):
        classifier._video_frames(data)


def test_no_child_process_while_scanning_any_refused_format(monkeypatch, tmp_path):
    from suraksha.cases.media import make_preview

    samples = []
    for make, _ in list(REFUSED.values()) + list(REFUSED_CODECS.values()):
        try:
            samples.append(make())
        except (OSError, KeyError, ValueError):
            continue
    assert len(samples) >= 20
    with no_child_process(monkeypatch, tmp_path):
        for data in samples:
            for mime in (None, "image/x-eps", "application/postscript", "image/jpeg", "video/mp4"):
                with contextlib.suppress(MediaError):  # refusals are checked above; here: no program runs
                    media_signals(data, mime)
            make_preview(data)


def test_pillow_itself_cannot_start_ghostscript_in_this_process(monkeypatch, tmp_path):
    """Even a stray ``Image.open`` without ``formats=`` (not ours) cannot run Ghostscript once
    suraksha.signals is imported: Pillow is told there is no Ghostscript binary."""
    from PIL import EpsImagePlugin

    import suraksha.signals.pdq  # noqa: F401 - the import locks Pillow down

    assert EpsImagePlugin.gs_binary is False and not EpsImagePlugin.has_ghostscript()
    with no_child_process(monkeypatch, tmp_path):
        img = Image.open(io.BytesIO(EPS))  # Pillow's own, every plugin: reads the EPS header
        with pytest.raises(OSError, match="Ghostscript"):
            img.load()


def test_magic_of_an_allowed_format_opens_only_with_that_format():
    """Bytes that start like a PNG are read by the PNG plugin or refused; no other plugin tries."""
    eps_after_png_magic = b"\x89PNG\r\n\x1a\n" + EPS
    with pytest.raises(CorruptMedia, match="PNG header is damaged"):
        media_signals(eps_after_png_magic)


@pytest.mark.parametrize(
    "fmt,mode", [("JPEG", "RGB"), ("PNG", "RGBA"), ("GIF", "P"), ("BMP", "RGB"), ("TIFF", "RGB"), ("WEBP", "RGB"), ("MPO", "RGB")]
)
def test_allowed_pictures_still_hash(fmt, mode):
    import numpy as np

    y, x = np.mgrid[0:96, 0:128]
    arr = np.stack([(x * 2) % 256, (y * 3) % 256, ((x // 16 + y // 16) % 2) * 255], -1).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).convert(mode).save(buf, fmt)
    ms = media_signals(buf.getvalue())
    assert ms.kind == "image" and ms.pdq is not None and len(ms.pdq.hash) == 64


@pytest.mark.parametrize("name", sorted(REFUSED_CODECS))
def test_allowed_container_with_another_codec_is_refused(name):
    make, codec = REFUSED_CODECS[name]
    data = _sample(make)
    assert sniff_kind(data) == "video"  # the container is allowed ...
    with pytest.raises(UnsupportedMedia, match=f"video codec {codec} is not one Suraksha decodes"):
        media_signals(data)  # ... its codec is not


@pytest.mark.parametrize("name", sorted(ALLOWED_VIDEOS))
def test_allowed_containers_and_codecs_hash(name):
    data = _sample(ALLOWED_VIDEOS[name])
    ms = media_signals(data)
    assert ms.kind == "video" and ms.vpdq and all(len(f.pdq) == 64 for f in ms.vpdq)


def test_video_is_opened_by_its_container_demuxer_only(monkeypatch):
    """``av.open`` is always told which demuxer to use: FFmpeg never probes submitted bytes."""
    import av

    seen: list[object] = []
    real_open = av.open

    def spy(*args, **kwargs):
        if kwargs.get("mode", args[1] if len(args) > 1 else "r") == "r":  # not the samples being written
            seen.append(kwargs.get("format"))
        return real_open(*args, **kwargs)

    monkeypatch.setattr(av, "open", spy)
    for _name, make in sorted(ALLOWED_VIDEOS.items()):
        try:
            data = make()
        except (OSError, ValueError):
            continue
        media_signals(data)
    assert seen and all(fmt in ("mov", "matroska", "avi", "flv", "mpegts", "mpeg", "mpegvideo") for fmt in seen), seen


def test_refusals_are_media_errors_for_odd_inputs():
    for data in (b"\x00", b"\n", b"%!", b"<svg", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"\x00\x00\x00\x18ftypavif" + b"\x00" * 40):
        with pytest.raises(MediaError):
            media_signals(data)
    for make, _named in REFUSED.values():  # every prefix of every sample: a one-line refusal, nothing else
        try:
            data = make()
        except (OSError, KeyError, ValueError):
            continue
        for n in range(1, 24):
            with pytest.raises(MediaError, match="^[^\n]+$"):
                media_signals(data[:n])
    from suraksha.signals.formats import VIDEO_CODECS

    assert {"h264", "hevc", "vp8", "vp9", "av1"} <= VIDEO_CODECS
