"""Adding a signal type is one module and one registration: a toy type, end to end.

The toy ``sha1`` type below is all the code it takes: banks accept and normalise it, bank files
read and write it (under its threatexchange name), the matcher indexes and matches it, its index
persists with the snapshot. Nothing else in Suraksha changes; the type is unregistered after.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging

import pytest

from suraksha.matching import banks
from suraksha.matching.banks import BankError, SignalRow
from suraksha.matching.formats import read_rows, rows_from_text, write_entries
from suraksha.matching.matcher import Matcher
from suraksha.signals import InvalidSignal
from suraksha.signals.types import IndexKind, SignalCategory, SignalType, register, unregister


# ---- the whole "module" of the new type --------------------------------------------------------
class Sha1Signal(SignalType):
    """SHA-1 of a file's bytes (a toy: some hash lists still carry it)."""

    name = "sha1"
    te_name = "toy_sha1"
    index_kind = IndexKind.EXACT
    category = SignalCategory.HASH
    description = "SHA-1 of the file's bytes (40 hex characters)"

    def normalize(self, value: str) -> str:
        v = value.strip().lower() if isinstance(value, str) else ""
        if len(v) != 40 or not set(v) <= set("0123456789abcdef"):
            raise InvalidSignal(f"a SHA-1 hash is 40 hexadecimal characters, got {str(value)[:80]!r}")
        return v

    def examples(self) -> tuple[str, ...]:
        return (hashlib.sha1(b"").hexdigest(), hashlib.sha1(b"a").hexdigest())


# -------------------------------------------------------------------------------------------------


SHA1 = hashlib.sha1(b"benign test bytes").hexdigest()


@pytest.fixture
def sha1_type():
    st = register(Sha1Signal())  # the one registration
    yield st
    unregister("sha1")


def test_a_registered_toy_type_is_banked_imported_exported_and_matched(db_url, tmp_path, sha1_type):
    matcher = Matcher.open(tmp_path / "index")
    banks.create_bank("hashes", "csam")
    added = banks.add_signals("hashes", [SignalRow("sha1", SHA1.upper(), {"case": 1})])
    assert added.added == 1
    with pytest.raises(BankError, match="row 1: a SHA-1 hash is 40 hexadecimal characters"):
        banks.add_signals("hashes", [SignalRow("sha1", "xyz")])

    matcher.refresh(force=True)
    [m] = matcher.lookup("sha1", SHA1.upper())
    assert (m.bank, m.label, m.signal_type, m.signal, m.distance) == ("hashes", "csam", "sha1", SHA1, 0)
    assert matcher.lookup("sha1", "0" * 40) == [] and matcher.stats()["sha1"] == 1

    # bank files: the CSV keeps our name, the threatexchange file uses the type's te name
    csv_out, te_out = io.StringIO(), io.StringIO()
    write_entries(banks.iter_entries("hashes"), csv_out, "csv")
    assert write_entries(banks.iter_entries("hashes"), te_out, "te") == {"written": 1, "skipped": 0}
    assert te_out.getvalue() == f"toy_sha1 {SHA1}\n"
    other = hashlib.sha1(b"other").hexdigest()
    banks.create_bank("copy", "csam")
    banks.import_rows("copy", rows_from_text(csv_out.getvalue(), "csv"))
    banks.import_rows("copy", read_rows(io.StringIO(f"toy_sha1 {other}\n"), "te"))
    assert {(e.signal_type, e.signal) for e in banks.iter_entries("copy")} == {("sha1", SHA1), ("sha1", other)}

    # the snapshot holds the toy type's index like any other; a restart finds it there
    matcher.refresh(force=True)
    matcher.save()
    assert json.loads((tmp_path / "index" / "state.json").read_text())["types"].count("sha1") == 1
    restarted = Matcher.open(tmp_path / "index")
    assert {m.bank for m in restarted.lookup("sha1", other)} == {"copy"}
    assert {m.bank for m in restarted.lookup("sha1", SHA1)} == {"hashes", "copy"}


def test_after_unregistering_the_type_is_unknown_again(db_url, tmp_path, sha1_type):
    banks.create_bank("hashes", "csam")
    banks.add_signals("hashes", [SignalRow("sha1", SHA1)])
    unregister("sha1")
    with pytest.raises(BankError, match="unknown signal type 'sha1'"):
        banks.add_signals("hashes", [SignalRow("sha1", SHA1)])
    matcher = Matcher.open(tmp_path / "index")  # rows of a type nobody registers are skipped, not fatal
    with pytest.raises(ValueError, match="unknown signal type"):
        matcher.lookup("sha1", SHA1)
    assert "sha1" not in matcher.stats()


def test_a_snapshot_without_a_registered_type_is_rebuilt_from_rows(db_url, tmp_path, caplog, sha1_type):
    unregister("sha1")
    banks.create_bank("hashes", "csam")
    Matcher.open(tmp_path / "index").save()  # a snapshot from before the type existed
    register(Sha1Signal())
    banks.add_signals("hashes", [SignalRow("sha1", SHA1)])
    with caplog.at_level(logging.INFO, logger="suraksha.matching.matcher"):
        matcher = Matcher.open(tmp_path / "index")
    assert [m.signal_type for m in matcher.lookup("sha1", SHA1)] == ["sha1"]
    assert any("has no index for sha1" in r.getMessage() for r in caplog.records)
    assert not any(r.levelno >= logging.WARNING and r.name.startswith("suraksha.matching") for r in caplog.records)


def test_a_snapshot_of_the_older_layout_is_rebuilt_once_without_an_error(db_url, tmp_path, caplog, monkeypatch):
    """Layout 1 kept exact indexes in ``exact-<type>`` folders and keywords in ``state.json``."""
    banks.create_bank("b", "csam")
    banks.add_signals("b", [SignalRow("md5", "a" * 32), SignalRow("text", "secret meetup")])
    index_dir = tmp_path / "index"
    (index_dir / "exact-md5").mkdir(parents=True)
    (index_dir / "state.json").write_text(json.dumps({"floor": 0, "applied_above": [], "text_entries": {}}))
    with caplog.at_level(logging.INFO, logger="suraksha.matching.matcher"):
        matcher = Matcher.open(index_dir)
    assert not any(r.levelno >= logging.WARNING and r.name.startswith("suraksha.matching") for r in caplog.records)
    assert [m.signal_type for m in matcher.lookup("md5", "A" * 32)] == ["md5"]
    assert [m.bank for m in matcher.lookup_text("a secret  meetup")] == ["b"]
    matcher.save()
    assert not (index_dir / "exact-md5").exists()
    monkeypatch.setattr(Matcher, "_build_from_rows", lambda self: pytest.fail("rebuilt a current snapshot"))
    assert Matcher.open(index_dir).lookup("md5", "a" * 32)
