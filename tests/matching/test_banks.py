"""Bank service: creation rules, adding signals and content, all-or-nothing imports, the change log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from suraksha.db import session_scope
from suraksha.matching import banks
from suraksha.matching.banks import BankError, BankNotFound, SignalRow
from suraksha.matching.models import BankEntry, MatchingChange
from suraksha.signals.errors import UnsupportedMedia

PDQ_A = "f" * 64
PDQ_B = "0" * 63 + "1"


def _count(model) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_create_list_and_duplicate_names(db_url):
    banks.create_bank("known-csam", "csam")
    banks.create_bank("fp", "csam", negative=True, pdq_threshold=20)
    listed = {b.name: b for b in banks.list_banks()}
    assert set(listed) == {"known-csam", "fp"}
    assert listed["fp"].negative and listed["fp"].pdq_threshold == 20
    assert listed["known-csam"].match_transforms is True
    with pytest.raises(BankError, match="already exists"):
        banks.create_bank("known-csam", "ncii")
    assert len(banks.list_banks()) == 2


@pytest.mark.parametrize(
    "name,label,threshold,message",
    [
        ("", "csam", 31, "bank name"),
        ("has space", "csam", 31, "bank name"),
        ("ok", "CSAM!", 31, "label"),
        ("ok", "csam", 64, "0 to 63"),
        ("ok", "csam", -1, "0 to 63"),
    ],
)
def test_create_rejects_bad_settings(db_url, name, label, threshold, message):
    with pytest.raises(BankError, match=message):
        banks.create_bank(name, label, pdq_threshold=threshold)
    assert banks.list_banks() == []


def test_add_signals_normalises_dedupes_and_logs_changes(db_url):
    banks.create_bank("b", "csam")
    res = banks.add_signals(
        "b", [SignalRow("pdq", PDQ_A.upper()), SignalRow("pdq", PDQ_A), SignalRow("url", "HTTP://Example.com:80/x#frag")]
    )
    assert res.added == 2 and res.duplicates == 1
    again = banks.add_signals("b", [SignalRow("pdq", PDQ_A)])
    assert again.added == 0 and again.duplicates == 1
    with session_scope() as s:
        stored = {(e.signal_type, e.signal) for e in s.scalars(select(BankEntry))}
        ops = [c.op for c in s.scalars(select(MatchingChange).order_by(MatchingChange.seq))]
    assert ("pdq", PDQ_A) in stored
    assert ("url", "http://example.com/x") in stored
    assert ops == ["add", "add"]


def test_bad_signal_stores_nothing(db_url):
    banks.create_bank("b", "csam")
    rows = [SignalRow("pdq", PDQ_A), SignalRow("pdq", "not-hex"), SignalRow("md5", "a" * 32)]
    with pytest.raises(BankError, match="row 2"):
        banks.add_signals("b", rows)
    with pytest.raises(BankError, match="unknown signal type"):
        banks.add_signals("b", [SignalRow("sha1", "a" * 40)])
    assert _count(BankEntry) == 0 and _count(MatchingChange) == 0


def test_import_rows_is_all_or_nothing_across_batches(db_url, monkeypatch):
    monkeypatch.setattr(banks, "INSERT_BATCH", 10)  # force several batches inside one transaction
    banks.create_bank("b", "csam")
    good = [SignalRow("md5", f"{i:032x}") for i in range(100)]
    with pytest.raises(BankError, match="row 101"):
        banks.import_rows("b", good + [SignalRow("md5", "zz")])
    assert _count(BankEntry) == 0
    res = banks.import_rows("b", good)
    assert res.added == 100
    assert banks.get_bank("b").entries == 100


def test_unknown_bank(db_url):
    with pytest.raises(BankNotFound, match="no bank named 'nope'"):
        banks.add_signals("nope", [SignalRow("pdq", PDQ_A)])


def test_add_content_hashes_image(db_url, reference_dir):
    banks.create_bank("b", "csam")
    data = (reference_dir / "pdq/bridge-mods/aaa-orig.jpg").read_bytes()
    res = banks.add_content("b", data, {"case": "demo"})
    assert res.added == 3  # sha256, md5, pdq
    with session_scope() as s:
        types = {e.signal_type: e for e in s.scalars(select(BankEntry))}
    assert set(types) == {"sha256", "md5", "pdq"}
    assert types["pdq"].extra["case"] == "demo" and types["pdq"].extra["quality"] >= 50


def test_add_content_refuses_non_media(db_url):
    banks.create_bank("b", "csam")
    with pytest.raises(UnsupportedMedia, match="not a picture or video"):
        banks.add_content("b", b"this is not an image")
    assert _count(BankEntry) == 0


def test_disable_remove_and_bank_settings(db_url):
    banks.create_bank("b", "csam")
    res = banks.add_signals("b", [SignalRow("pdq", PDQ_A), SignalRow("pdq", PDQ_B)])
    a, b = res.entry_ids
    banks.set_entry_enabled("b", a, False)
    banks.set_entry_enabled("b", a, False)  # no second change logged
    banks.remove_entry("b", b)
    with pytest.raises(LookupError):
        banks.remove_entry("b", b)
    with session_scope() as s:
        ops = [(c.entry_id, c.op) for c in s.scalars(select(MatchingChange).order_by(MatchingChange.seq))]
    assert ops == [(a, "add"), (b, "add"), (a, "remove"), (b, "remove")]
    assert banks.get_bank("b").entries == 0
    info = banks.update_bank("b", enabled=False, pdq_threshold=10, match_transforms=False)
    assert (info.enabled, info.pdq_threshold, info.match_transforms) == (False, 10, False)
    with pytest.raises(BankError):
        banks.update_bank("b", pdq_threshold=99)
