"""Import/export round trips (CSV and threatexchange files) and incremental exchange fetches."""

from __future__ import annotations

import io

import numpy as np
import pytest

from suraksha.matching import banks, exchanges
from suraksha.matching.banks import SignalRow
from suraksha.matching.formats import FormatError, read_rows, rows_from_text, write_entries

PDQ = "e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54"


def test_csv_round_trip_keeps_metadata(db_url):
    banks.create_bank("src", "csam")
    banks.add_signals(
        "src", [SignalRow("pdq", PDQ, {"case": 7}), SignalRow("url", "https://a.example/x"), SignalRow("domain", "b.example")]
    )
    out = io.StringIO()
    counts = write_entries(banks.iter_entries("src"), out, "csv", label="csam")
    assert counts == {"written": 3, "skipped": 0}
    text = out.getvalue()
    assert text.splitlines()[0] == "signal_type,signal,label,metadata"
    banks.create_bank("dst", "csam")
    banks.import_rows("dst", rows_from_text(text, "csv"))
    got = {(e.signal_type, e.signal): e.metadata for e in banks.iter_entries("dst")}
    assert got[("pdq", PDQ)] == {"case": 7, "label": "csam"}
    assert ("domain", "b.example") in got


def test_te_format_uses_threatexchange_names_and_reads_its_files(db_url, tmp_path):
    banks.create_bank("src", "csam")
    banks.add_signals("src", [SignalRow("pdq", PDQ), SignalRow("md5", "a" * 32), SignalRow("domain", "x.example")])
    out = io.StringIO()
    counts = write_entries(banks.iter_entries("src"), out, "te")
    assert counts == {"written": 2, "skipped": 1}  # threatexchange has no domain type
    assert sorted(out.getvalue().splitlines()) == sorted([f"pdq {PDQ}", "video_md5 " + "a" * 32])

    # threatexchange's own file exchange reads our export back, with its own signal type names.
    from threatexchange.exchanges.impl.file_api import FileCollaborationConfig, LocalFileSignalExchangeAPI

    path = tmp_path / "te.txt"
    path.write_text(out.getvalue())
    api = LocalFileSignalExchangeAPI.for_collab(FileCollaborationConfig(name="x", filename=str(path)))
    [delta] = list(api.fetch_iter([], None))
    assert set(delta.updates) == {("pdq", PDQ), ("video_md5", "a" * 32)}
    # ...and we read a file in its format (comments and blank lines ignored).
    rows = list(read_rows(io.StringIO(f"# from HMA\n\npdq {PDQ}\nvideo_sha256 {'b' * 64}\n"), "te"))
    assert [(r.signal_type, r.signal) for r in rows] == [("pdq", PDQ), ("sha256", "b" * 64)]


@pytest.mark.parametrize(
    "text,fmt,message",
    [
        ("sig,signal\npdq,x\n", "csv", "line 1: expected the header"),
        ("signal_type,signal,label,metadata\npdq,abc,csam,{bad\n", "csv", "line 2: metadata is not valid JSON"),
        ("signal_type,signal,label,metadata\npdq,abc,csam,[1]\n", "csv", "line 2: metadata must be a JSON object"),
        ("pdq\n", "te", "line 1: expected"),
        ("photo_sha1 abc\n", "te", "unsupported threatexchange signal type"),
        ("", "xml", "unknown format"),
    ],
)
def test_malformed_files_name_the_line(text, fmt, message):
    with pytest.raises(FormatError, match=message):
        rows_from_text(text, fmt)


def test_file_exchange_fetch_is_incremental_and_checkpointed(db_url, tmp_path):
    path = tmp_path / "signals.txt"
    path.write_text(f"pdq {PDQ}\nvideo_md5 {'a' * 32}\nraw_text secret meetup\n")
    banks.create_bank("shared", "csam")
    exchanges.configure_exchange("shared", "file", {"filename": str(path)})
    first = exchanges.fetch_exchange("shared")
    assert (first.added, first.duplicates) == (3, 0)
    with path.open("a") as fh:
        fh.write(f"video_sha256 {'b' * 64}\n")
    second = exchanges.fetch_exchange("shared")
    assert (second.added, second.duplicates) == (1, 3)
    info = banks.get_bank("shared")
    assert info.entries == 4 and info.source == "exchange:file"


def test_exchange_errors_are_clear(db_url, tmp_path):
    banks.create_bank("b", "csam")
    with pytest.raises(exchanges.ExchangeError, match="unknown exchange"):
        exchanges.configure_exchange("b", "myspace", {})
    with pytest.raises(exchanges.ExchangeError, match="not linked"):
        exchanges.fetch_exchange("b")
    with pytest.raises(exchanges.ExchangeError, match="bad config"):
        exchanges.configure_exchange("b", "file", {"no_such_field": 1})
    exchanges.configure_exchange("b", "file", {"filename": str(tmp_path / "missing.txt")})
    with pytest.raises(exchanges.ExchangeError, match="file fetch failed"):
        exchanges.fetch_exchange("b")
    assert banks.get_bank("b").entries == 0


def _noise_jpeg() -> bytes:
    from PIL import Image

    rng = np.random.default_rng(7)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def test_te_export_names_a_photos_exact_hashes_as_a_photos(db_url):
    """Issue 14: a photo's MD5/SHA-256 were exported as video_md5/video_sha256."""
    from tests.signals.hostile_video import moving_video

    banks.create_bank("media", "csam")
    photo = banks.add_content("media", _noise_jpeg())
    assert photo.added == 3 and photo.skipped == []
    video = banks.add_content("media", moving_video(64, 48, seconds=2, fps=5))
    assert video.added == 3  # sha256, md5, vpdq
    banks.add_signals("media", [SignalRow("md5", "c" * 32)])  # a bare hash: content unknown
    content = {(e.signal_type, e.signal): e.metadata.get("content_type") for e in banks.iter_entries("media")}
    assert sorted(c for (t, _), c in content.items() if t in ("md5", "sha256") and c) == ["photo", "photo", "video", "video"]

    out = io.StringIO()
    assert write_entries(banks.iter_entries("media"), out, "te") == {"written": 7, "skipped": 0}
    names = sorted(line.split()[0] for line in out.getvalue().splitlines())
    assert names == ["pdq", "photo_md5", "photo_sha256", "video_md5", "video_md5", "video_sha256", "vpdq"]

    # read back by Suraksha with the content type; threatexchange skips the photo lines it has no type for
    banks.create_bank("copy", "csam")
    banks.import_rows("copy", read_rows(io.StringIO(out.getvalue()), "te"))
    copied = {(e.signal_type, e.signal): e.metadata.get("content_type") for e in banks.iter_entries("copy")}
    assert {k: v for k, v in copied.items() if k[0] in ("md5", "sha256")} == {
        k: v for k, v in content.items() if k[0] in ("md5", "sha256")
    } | {("md5", "c" * 32): "video"}
    from threatexchange.exchanges.impl.file_api import LocalFileSignalExchangeAPI
    from threatexchange.signal_type.md5 import VideoMD5Signal

    fetched = {key: object() for key in (tuple(line.split(" ", 1)) for line in out.getvalue().splitlines())}
    converted = LocalFileSignalExchangeAPI.naive_convert_to_signal_type([VideoMD5Signal], None, fetched)
    assert sorted(converted[VideoMD5Signal]) == sorted(s for (t, s) in content if t == "md5" and content[("md5", s)] != "photo")
