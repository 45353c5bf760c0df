"""Exact-value index for md5 / sha256 / url / domain signals: value -> ids.

Values are compared as given (the caller normalises: lowercase hex, canonical URL). A dict of
value -> id (a set only when several entries share a value) and id -> value; adds and removes take
effect immediately. The persisted form is an
int64 id array plus one UTF-8 blob with value lengths, so loading is two reads and one decode.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = ["ExactIndex"]

FORMAT_VERSION = 1


def _ids_list(ids: np.ndarray | Iterable[int]) -> list[int]:
    if isinstance(ids, np.ndarray):
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be a 1-d integer array, got {ids.dtype} {ids.shape}")
        return ids.astype(np.int64, copy=False).tolist()
    out = []
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise ValueError(f"ids must be integers, got {i!r}")
        out.append(int(i))
    return out


class ExactIndex:
    """value -> sorted ids of live entries holding exactly that value."""

    def __init__(self) -> None:
        # one id per value is the common case: stored as a bare int (a set costs ~200 bytes more)
        self._by_value: dict[str, int | set[int]] = {}
        self._by_id: dict[int, str] = {}
        self._lock = threading.Lock()

    def add(self, ids: np.ndarray | Iterable[int], values: list[str]) -> None:
        """Add entries; an id already present is replaced (its old value forgotten)."""
        id_list = _ids_list(ids)
        values = list(values)
        if len(id_list) != len(values):
            raise ValueError(f"{len(id_list)} ids but {len(values)} values")
        if len(set(id_list)) != len(id_list):
            raise ValueError("ids in one add() call must be unique")
        for v in values:
            if not isinstance(v, str):
                raise ValueError(f"values must be strings, got {type(v).__name__}")
        with self._lock:
            by_value = self._by_value
            for i, v in zip(id_list, values):
                self._drop(i)
                self._by_id[i] = v
                cur = by_value.get(v)
                if cur is None:
                    by_value[v] = i
                elif isinstance(cur, set):
                    cur.add(i)
                elif cur != i:
                    by_value[v] = {cur, i}

    def _drop(self, i: int) -> None:
        old = self._by_id.pop(i, None)
        if old is None:
            return
        cur = self._by_value[old]
        if isinstance(cur, set):
            cur.discard(i)
            if len(cur) == 1:
                self._by_value[old] = next(iter(cur))
        else:
            del self._by_value[old]

    def remove(self, ids: np.ndarray | Iterable[int]) -> None:
        """Remove entries by id; unknown ids are ignored."""
        id_list = _ids_list(ids)
        with self._lock:
            for i in id_list:
                self._drop(i)

    def query(self, value: str) -> list[int]:
        """Ids whose value equals ``value`` exactly, ascending."""
        if not isinstance(value, str):
            raise ValueError(f"query value must be a string, got {type(value).__name__}")
        cur = self._by_value.get(value)
        if cur is None:
            return []
        return sorted(cur) if isinstance(cur, set) else [cur]

    def __len__(self) -> int:
        return len(self._by_id)

    def save(self, directory: Path) -> None:
        """Atomic: files are written under temporary names, then ``meta.json`` names them."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            items = list(self._by_id.items())
        ids = np.fromiter((i for i, _ in items), dtype=np.int64, count=len(items))
        encoded = [v.encode("utf-8") for _, v in items]
        lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
        tag = os.urandom(6).hex()
        files = {"ids": f"ids-{tag}.npy", "lengths": f"lengths-{tag}.npy", "blob": f"values-{tag}.bin"}
        for key, arr in (("ids", ids), ("lengths", lengths)):
            with open(directory / files[key], "wb") as f:
                np.save(f, arr, allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
        with open(directory / files["blob"], "wb") as f:
            f.write(b"".join(encoded))
            f.flush()
            os.fsync(f.fileno())
        tmp = directory / "meta.json.tmp"
        with open(tmp, "w") as f:
            json.dump({"format": FORMAT_VERSION, "kind": "exact", "files": files}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / "meta.json")
        keep = set(files.values()) | {"meta.json"}
        for old in directory.iterdir():
            if old.name not in keep and old.name.split("-")[0] in ("ids", "lengths", "values"):
                old.unlink(missing_ok=True)

    @classmethod
    def load(cls, directory: Path) -> ExactIndex:
        """Read an index written by ``save``. Raises ValueError if missing or corrupt."""
        directory = Path(directory)
        try:
            meta = json.loads((directory / "meta.json").read_text())
            if meta.get("format") != FORMAT_VERSION or meta.get("kind") != "exact":
                raise ValueError(f"unsupported format {meta.get('format')!r}")
            files = meta["files"]
            ids = np.load(directory / files["ids"], allow_pickle=False)
            lengths = np.load(directory / files["lengths"], allow_pickle=False)
            blob = (directory / files["blob"]).read_bytes()
        except (OSError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"no readable exact index in {directory}: {e}") from None
        if ids.shape != lengths.shape or int(lengths.sum()) != len(blob) or (lengths < 0).any():
            raise ValueError(f"exact index in {directory} is inconsistent")
        ends = np.cumsum(lengths).tolist()
        starts = [0] + ends[:-1]
        idx = cls()
        try:
            values = [blob[s:e].decode("utf-8") for s, e in zip(starts, ends)]
        except UnicodeDecodeError as e:
            raise ValueError(f"exact index in {directory} is corrupt: {e}") from None
        idx.add(ids, values)
        return idx
