"""Every registered signal type's index agrees with the type's brute-force ``compare``, and persists.

The same contract runs over every registered type through ``index_class`` (the binding the matcher
uses), so a new type of an existing kind is checked by registering it.
"""

from __future__ import annotations

import pytest

from suraksha.matching.index.base import SignalIndex
from suraksha.matching.index.kinds import FrameSignalIndex, index_class
from suraksha.signals import VpdqFrame, vpdq_to_signal
from suraksha.signals.types import IndexKind, SignalType, get_signal_type, signal_types

TYPES = signal_types()


def _flip(hex_hash: str, nbits: int) -> str:
    value = int(hex_hash, 16)
    for bit in range(nbits):
        value ^= 1 << (bit * 7 % 256)
    return f"{value:064x}"


def _values(st: SignalType) -> list[str]:
    """The type's examples, plus near copies where the type has a distance worth testing."""
    values = list(st.examples())
    if st.index_kind is IndexKind.PDQ:
        values += [_flip(values[0], 5), _flip(values[0], st.default_threshold + 1)]
    if st.index_kind is IndexKind.FRAMES:
        frames = [VpdqFrame(n, _flip(PDQ_BASE, n), 90) for n in range(5)]
        values += [vpdq_to_signal(frames), vpdq_to_signal(frames[:4] + [VpdqFrame(9, "0" * 64, 90)])]
    return values


PDQ_BASE = "e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54"


def _brute(st: SignalType, entries: dict[int, str], query: str) -> dict[int, int]:
    out = {}
    for entry_id, banked in entries.items():
        cmp = st.compare(query, banked)
        if cmp.match:
            out[entry_id] = cmp.distance
    return out


def _found(index: SignalIndex, st: SignalType, query: str) -> dict[int, int]:
    return {h.id: h.distance for h in index.query(query, st.default_threshold)}


@pytest.mark.parametrize("st", TYPES, ids=[t.name for t in TYPES])
def test_index_of_every_type_agrees_with_brute_force_and_survives_save_and_load(st, tmp_path):
    entries = dict(enumerate(_values(st), start=1))
    index = index_class(st)()
    index.add(list(entries), list(entries.values()))
    assert len(index) == len(entries)
    for query in entries.values():
        assert _found(index, st, query) == _brute(st, entries, query), query
    index.remove([1])
    del entries[1]
    for query in _values(st):
        assert _found(index, st, query) == _brute(st, entries, query), query
    index.save(tmp_path / st.name)
    loaded = index_class(st).load(tmp_path / st.name)
    assert len(loaded) == len(entries)
    for query in _values(st):
        assert _found(loaded, st, query) == _found(index, st, query)
    index.add([2], [entries[2]])  # re-adding an id replaces it
    assert len(index) == len(entries)


def test_a_video_matches_when_most_of_its_frames_do():
    st = get_signal_type("vpdq")
    frames = [VpdqFrame(n, _flip(PDQ_BASE, n), 90) for n in range(10)]
    index = FrameSignalIndex()
    index.add([7], [vpdq_to_signal(frames)])
    eight_of_ten = frames[:8] + [VpdqFrame(20, "0" * 64, 90), VpdqFrame(21, "f" * 64, 90)]
    [hit] = index.query(vpdq_to_signal(eight_of_ten), st.default_threshold)
    assert (hit.id, hit.distance, dict(hit.detail or {})) == (7, 0, {"query_match_percent": 80.0})
    seven_of_ten = eight_of_ten[:7] + [VpdqFrame(22, "3" * 64, 90)] + eight_of_ten[8:]
    assert index.query(vpdq_to_signal(seven_of_ten), st.default_threshold) == []
    flat = [VpdqFrame(n, f.pdq, 10) for n, f in enumerate(frames)]  # too flat to match on
    assert index.query(vpdq_to_signal(flat), st.default_threshold) == []
    assert index.frames == 10 and len(index) == 1
    index.remove([7])
    assert index.frames == 0 and index.query(vpdq_to_signal(frames), st.default_threshold) == []


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_a_damaged_index_file_is_refused_on_load(tmp_path, damage):
    for st in TYPES:
        index = index_class(st)()
        index.add([1], [st.examples()[0]])
        folder = tmp_path / st.name
        index.save(folder)
        for f in [p for p in folder.rglob("*") if p.is_file() and p.suffix == ".json"]:
            if damage == "missing":
                f.unlink()
            else:
                f.write_text("{not json")
        with pytest.raises(ValueError):
            index_class(st).load(folder)
