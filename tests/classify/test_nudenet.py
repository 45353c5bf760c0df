"""NudeNet on generated benign pictures only: low nudity, the right shape, offline, bad bytes refused."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("nudenet", reason="nudenet is not installed (pip install 'suraksha[classify]')")

from suraksha.classify import EXPLICIT_CLASSES, ClassifierError, NudeNetClassifier  # noqa: E402
from suraksha.classify import nudenet as nudenet_mod  # noqa: E402
from suraksha.classify.base import Score  # noqa: E402


def encode(arr: np.ndarray, fmt: str = "JPEG", mode: str | None = None) -> bytes:
    img = Image.fromarray(arr)
    if mode:
        img = img.convert(mode)
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def gradient(w: int = 640, h: int = 480) -> np.ndarray:
    x = np.linspace(0, 255, w)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h)[:, None].repeat(w, 1)
    return np.stack([x, y, 255 - x], axis=-1).astype(np.uint8)


def landscape(w: int = 800, h: int = 500, seed: int = 7) -> np.ndarray:
    """Sky, a sun, green hills and a lake, with a little noise."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    img[:] = np.stack([110 + yy * 0.2, 160 + yy * 0.1, 235 - yy * 0.05], -1).clip(0, 255).astype(np.uint8)
    img[(yy - 90) ** 2 + (xx - 620) ** 2 < 45**2] = (250, 220, 90)
    hills = h * 0.55 + 40 * np.sin(xx / 90.0) + 25 * np.sin(xx / 37.0 + 1)
    img[yy > hills] = (50, 130, 60)
    img[yy > h * 0.82] = (40, 90, 160)
    return (img.astype(int) + rng.integers(-6, 7, img.shape)).clip(0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def clf() -> NudeNetClassifier:
    c = NudeNetClassifier()
    started = time.monotonic()
    c.load()
    assert time.monotonic() - started < 5, "NudeNet took over 5 s to load; mark these tests slow"
    return c


def test_the_explicit_classes_are_real_nudenet_labels():
    import nudenet.nudenet as nn

    labels = set(nn.__dict__["__labels"])  # a module-level name NudeNet does not export
    assert EXPLICIT_CLASSES <= labels
    assert not any("COVERED" in c or "FACE" in c or "FEET" in c for c in EXPLICIT_CLASSES)


@pytest.mark.parametrize(
    "picture",
    [
        pytest.param(lambda: encode(gradient()), id="gradient-jpeg"),
        pytest.param(lambda: encode(landscape()), id="landscape-jpeg"),
        pytest.param(lambda: encode(landscape(300, 900, seed=3), "PNG"), id="tall-landscape-png"),
        pytest.param(lambda: encode(gradient(), "PNG", mode="L"), id="grey-png"),
        pytest.param(lambda: encode(gradient(), "PNG", mode="RGBA"), id="rgba-png"),
        pytest.param(lambda: encode(gradient(64, 48), "GIF", mode="P"), id="palette-gif"),
    ],
)
def test_benign_pictures_score_low_nudity(clf, picture):
    result = clf.score(picture(), "image")
    assert len(result) == 1 and isinstance(result[0], Score)
    assert result[0].name == "nudity" and isinstance(result[0].value, float)
    assert 0.0 <= result[0].value < 0.2


def test_other_kinds_get_no_score(clf):
    assert clf.score(encode(gradient()), "text") == []


@pytest.mark.parametrize("data", [b"", b"not an image at all", encode(gradient())[:200]])
def test_bad_bytes_raise_classifier_error(clf, data):
    with pytest.raises(ClassifierError):
        clf.score(data, "image")


def test_decompression_bomb_is_refused_before_decoding():
    small = NudeNetClassifier(max_pixels=10_000)
    with pytest.raises(ClassifierError, match="over the limit"):
        small.score(encode(gradient(200, 100)), "image")


def test_runs_offline_in_a_process_without_network(tmp_path):
    """The model ships in the wheel: load and score in a fresh process with no network at all."""
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None:
        pytest.skip("unshare(1) is not available to cut the network")
    pic = tmp_path / "landscape.png"
    pic.write_bytes(encode(landscape()))
    code = (
        "import socket, sys\n"
        "try:\n    socket.create_connection(('1.1.1.1', 80), timeout=2); sys.exit('network is reachable')\n"
        "except OSError:\n    pass\n"
        "from suraksha.classify import NudeNetClassifier\n"
        f"print(NudeNetClassifier().score(open({str(pic)!r}, 'rb').read(), 'image')[0].value)\n"
    )
    proc = subprocess.run(["unshare", "-n", sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and "unshare failed" in proc.stderr:
        pytest.skip(f"cannot create a network namespace here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert float(proc.stdout.strip().splitlines()[-1]) < 0.2


def test_model_is_loaded_once_across_threads(monkeypatch):
    import nudenet

    created = []
    real = nudenet.NudeDetector

    def counting(*a, **k):
        created.append(1)
        time.sleep(0.05)
        return real(*a, **k)

    monkeypatch.setattr(nudenet, "NudeDetector", counting)
    monkeypatch.setattr(nudenet_mod, "_detector", None)
    pic = encode(gradient(320, 240))
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(NudeNetClassifier().score(pic, "image"))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(created) == 1 and len(results) == 6
    assert all(r == results[0] for r in results)


def test_video_frames_are_scored(clf):
    av = pytest.importorskip("av")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=4)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(16):  # 4 seconds of a landscape panning by
            frame = av.VideoFrame.from_ndarray(np.roll(landscape(320, 240), i * 10, axis=1), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    result = clf.score(buf.getvalue(), "video")
    assert [f.name for f in result] == ["nudity"] and result[0].value < 0.2
    with pytest.raises(ClassifierError):
        clf.score(b"\x00\x00\x00\x18ftypmp42 broken", "video")
