"""Bulk bank imports (issue 15.6): staged COPY / INSERT ... SELECT on both databases, exact counts,
idempotent re-imports, bad rows named by file line with nothing stored, lookups during an import."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from sqlalchemy import func, select

from suraksha.db import session_scope
from suraksha.matching import banks
from suraksha.matching.banks import BankError, LineCounter, SignalRow
from suraksha.matching.formats import read_rows
from suraksha.matching.matcher import Matcher
from suraksha.matching.models import BankEntry, MatchingChange


def pdq_hashes(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    return [bytes(r).hex() for r in raw]


def csv_text(hashes: list[str], *, bad_at: int | None = None, blank_every: int = 0) -> str:
    out = ["signal_type,signal,label,metadata"]
    for i, h in enumerate(hashes):
        if blank_every and i and i % blank_every == 0:
            out.append("")
        out.append(f"pdq,{'not-a-hash' if i == bad_at else h.upper()},csam,")
    return "\n".join(out) + "\n"


def counts(bank: str) -> tuple[int, int]:
    with session_scope() as s:
        bank_id = s.scalar(select(banks.Bank.id).where(banks.Bank.name == bank))
        entries = s.scalar(select(func.count()).select_from(BankEntry).where(BankEntry.bank_id == bank_id))
        changes = s.scalar(select(func.count()).select_from(MatchingChange).where(MatchingChange.bank_id == bank_id))
    return entries or 0, changes or 0


def test_bulk_import_counts_entries_and_change_log(db_url, monkeypatch):
    monkeypatch.setattr(banks, "INSERT_BATCH", 500)  # 2,000 rows per bulk statement: several batches
    banks.create_bank("b", "csam")
    hashes = pdq_hashes(7000)
    rows = [SignalRow("pdq", h.upper(), {"label": "csam"}) for h in hashes]
    rows += [SignalRow("pdq", hashes[5])]  # repeated inside the file
    rows += [SignalRow("md5", "a" * 32, {"note": 'tab\there, quote " and back\\slash'})]
    res = banks.import_rows("b", rows)
    assert (res.added, res.duplicates) == (7001, 1)
    assert counts("b") == (7001, 7001)
    with session_scope() as s:
        entries = s.execute(
            select(BankEntry.id, BankEntry.signal_type, BankEntry.signal, BankEntry.extra, BankEntry.created_at)
        ).all()
        changes = s.execute(select(MatchingChange.entry_id, MatchingChange.signal, MatchingChange.op)).all()
    by_id = {e.id: e for e in entries}
    assert {c.entry_id for c in changes} == set(by_id)  # one "add" per stored entry, no other
    assert all(c.op == "add" and by_id[c.entry_id].signal == c.signal for c in changes)
    pdq = {e.signal for e in entries if e.signal_type == "pdq"}
    assert pdq == set(hashes)  # normalised to lower case
    md5 = next(e for e in entries if e.signal_type == "md5")
    assert md5.extra == {"note": 'tab\there, quote " and back\\slash'}
    assert all(e.created_at.tzinfo is not None for e in entries)
    # the matcher sees them: a fresh one built from the change log
    m = Matcher()
    m.refresh(force=True)
    assert [x.distance for x in m.lookup("pdq", hashes[6999])] == [0]


def test_reimport_is_idempotent(db_url, tmp_path):
    banks.create_bank("b", "csam")
    text = csv_text(pdq_hashes(3000))
    first = banks.import_rows("b", read_rows(io.StringIO(text), "csv"))
    again = banks.import_rows("b", read_rows(io.StringIO(text), "csv"))
    assert (first.added, first.duplicates) == (3000, 0)
    assert (again.added, again.duplicates) == (0, 3000)
    assert counts("b") == (3000, 3000)  # no change-log rows for rows already present


def test_bad_row_names_its_file_line_and_stores_nothing(db_url, monkeypatch):
    monkeypatch.setattr(banks, "INSERT_BATCH", 250)  # the bad row comes after several stored batches
    banks.create_bank("b", "csam")
    banks.import_rows("b", [SignalRow("pdq", h) for h in pdq_hashes(10, seed=9)])
    # header on line 1; a blank line after every 100 rows; row 2,500 (index 2499) is bad
    text = csv_text(pdq_hashes(3000), bad_at=2499, blank_every=100)
    lines = LineCounter(io.StringIO(text))
    with pytest.raises(BankError) as err:
        banks.import_rows("b", read_rows(lines, "csv"), lines=lines)
    expected_line = 1 + 2500 + 2499 // 100  # header + rows up to it + blank lines before it
    assert f"line {expected_line} (row 2500)" in str(err.value)
    assert text.splitlines()[expected_line - 1].startswith("pdq,not-a-hash")
    assert counts("b") == (10, 10)  # the earlier import is intact, nothing of this one stored


def test_unknown_signal_type_names_its_line(db_url):
    banks.create_bank("b", "csam")
    text = "signal_type,signal,label,metadata\npdq," + "a" * 64 + ",csam,\nsha1," + "b" * 40 + ",csam,\n"
    lines = LineCounter(io.StringIO(text))
    with pytest.raises(BankError, match=r"line 3 \(row 2\): unknown signal type 'sha1'"):
        banks.import_rows("b", read_rows(lines, "csv"), lines=lines)
    assert counts("b") == (0, 0)


def test_bulk_insert_path_returns_the_new_entry_ids(db_url):
    """Exchange fetches hand big batches to the same bulk path; the ids it reports are the rows."""
    banks.create_bank("b", "csam")
    rows = banks.normalize_rows([SignalRow("pdq", h) for h in pdq_hashes(banks.BULK_MIN + 5)])
    with session_scope() as s:
        bank = banks._bank(s, "b")
        res = banks._insert_entries(s, bank, rows[:-2] + rows[:3])
    assert (res.added, res.duplicates) == (banks.BULK_MIN + 3, 3)
    with session_scope() as s:
        stored = dict(s.execute(select(BankEntry.id, BankEntry.signal)).all())
    assert sorted(res.entry_ids) == sorted(stored)
    assert counts("b") == (banks.BULK_MIN + 3, banks.BULK_MIN + 3)


def test_caller_session_is_not_committed(db_url):
    banks.create_bank("b", "csam")
    with pytest.raises(RuntimeError):
        with session_scope() as s:
            res = banks.import_rows("b", [SignalRow("pdq", h) for h in pdq_hashes(1500)], session=s)
            assert res.added == 1500
            raise RuntimeError("the caller's unit of work fails after the import")
    assert counts("b") == (0, 0)


def test_lookups_answer_while_an_import_runs(db_url, monkeypatch):
    monkeypatch.setattr(banks, "INSERT_BATCH", 1000)
    banks.create_bank("b", "csam")
    known = pdq_hashes(1, seed=77)[0]
    banks.add_signals("b", [SignalRow("pdq", known)])
    m = Matcher()
    m.refresh(force=True)
    batches = []
    done = threading.Event()

    def run_import() -> None:
        try:
            banks.import_rows("b", [SignalRow("pdq", h) for h in pdq_hashes(40_000)], progress=lambda r: batches.append(r.added))
        finally:
            done.set()

    t = threading.Thread(target=run_import)
    t.start()
    answered = 0
    while not done.is_set():
        assert [x.distance for x in m.lookup("pdq", known)] == [0]
        answered += 1
    t.join()
    assert len(batches) >= 5 and answered > 0
    m.refresh(force=True)  # committed: the new entries match too
    assert [x.distance for x in m.lookup("pdq", pdq_hashes(40_000)[-1])] == [0]


def test_cli_import_reports_totals(db_url, tmp_path):
    f = tmp_path / "list.csv"
    f.write_text(csv_text(pdq_hashes(2500)))
    env = {**os.environ}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "suraksha.cli", *args], capture_output=True, text=True, env=env, timeout=120)

    assert run("bank", "create", "b", "--label", "csam").returncode == 0
    res = run("bank", "import", "b", str(f))
    assert res.returncode == 0, res.stderr
    assert "imported 2500 signals into b (0 already present); 2500 rows from 2501 lines" in res.stdout
    assert "importing list.csv" in res.stderr
    again = run("bank", "import", "b", str(f), "--no-progress")
    assert "imported 0 signals into b (2500 already present)" in again.stdout
    assert json.loads(run("bank", "list", "--json").stdout)["entries"] == 2500
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text(pdq_hashes(30, seed=3), bad_at=20))
    res = run("bank", "import", "b", str(bad))
    assert res.returncode == 1 and "line 22 (row 21)" in res.stderr
    assert json.loads(run("bank", "list", "--json").stdout)["entries"] == 2500
