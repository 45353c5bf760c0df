"""Fetching banks from hash-sharing exchanges through python-threatexchange's clients.

A bank is linked to one exchange (``file``, ``ncmec``, ``stop_ncii``, ``fb_threatexchange``) with that
client's collaboration config. ``fetch_exchange`` runs the client's incremental ``fetch_iter`` from the
stored checkpoint; each batch's additions, deletions and the new checkpoint are committed in one
transaction, so an interrupted fetch resumes where it stopped and never double-adds.

Credentials are never stored here: threatexchange's clients read them from their own environment
variables or credential files (e.g. ``TX_NCMEC_CREDENTIALS``), which keeps secrets out of the database.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dacite
from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.db import session_scope, utcnow
from suraksha.errors import InvalidInput
from suraksha.matching.banks import CONTENT_TYPE, SignalRow, _bank, _insert_entries, _log_change, normalize_rows
from suraksha.matching.models import BankEntry, ExchangeCheckpoint
from suraksha.signals.types import te_signal_type

if TYPE_CHECKING:
    from threatexchange.exchanges.signal_exchange_api import SignalExchangeAPI
    from threatexchange.signal_type.signal_base import SignalType as TeSignalType

    ExchangeAPI = type[SignalExchangeAPI[Any, Any, Any, Any, Any]]


class ExchangeError(InvalidInput):
    """Unknown exchange, bad collaboration config, or a client failure (message from the client)."""


def _exchange_classes() -> dict[str, ExchangeAPI]:
    # threatexchange is imported when an exchange is used, not when the CLI starts
    from threatexchange.exchanges.impl.fb_threatexchange_api import FBThreatExchangeSignalExchangeAPI
    from threatexchange.exchanges.impl.file_api import LocalFileSignalExchangeAPI
    from threatexchange.exchanges.impl.ncmec_api import NCMECSignalExchangeAPI
    from threatexchange.exchanges.impl.stop_ncii_api import StopNCIISignalExchangeAPI

    return {
        "file": LocalFileSignalExchangeAPI,
        "ncmec": NCMECSignalExchangeAPI,
        "stop_ncii": StopNCIISignalExchangeAPI,
        "fb_threatexchange": FBThreatExchangeSignalExchangeAPI,
    }


def _signal_types() -> list[type[TeSignalType]]:
    """The threatexchange signal types asked of an exchange: those a registered type reads."""
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal
    from threatexchange.signal_type.raw_text import RawTextSignal
    from threatexchange.signal_type.sha256 import VideoSHA256Signal
    from threatexchange.signal_type.url import URLSignal

    known: list[type[TeSignalType]] = [PdqSignal, VideoMD5Signal, VideoSHA256Signal, URLSignal, RawTextSignal]
    return [t for t in known if te_signal_type(t.get_name()) is not None]


EXCHANGES = ("file", "ncmec", "stop_ncii", "fb_threatexchange")


def exchange_apis() -> dict[str, ExchangeAPI]:
    """Exchange name -> its threatexchange client class (HMA's "exchange API types")."""
    return dict(_exchange_classes())


def config_fields(api_cls: ExchangeAPI) -> list[dict[str, Any]]:
    """The fields of a client's collaboration config, beyond name/api/enabled, as HMA's schema
    endpoint describes them: name, type, required, default, help, choices."""
    out: list[dict[str, Any]] = []
    for f in dataclasses.fields(api_cls.get_config_cls()):
        if f.name in ("name", "api", "enabled"):
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = None if f.default is dataclasses.MISSING else f.default
        if not isinstance(default, (str, int, float, bool, type(None))):
            default = str(default)
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        choices = [e.value for e in f.type] if isinstance(f.type, type) and issubclass(f.type, enum.Enum) else None
        out.append({"name": f.name, "type": kind, "required": required, "default": default, "help": "", "choices": choices})
    return out


@dataclass
class FetchResult:
    batches: int = 0
    added: int = 0
    duplicates: int = 0
    removed: int = 0
    skipped: int = 0  # signals of types Suraksha does not index, or invalid ones


def _collab(api_cls: ExchangeAPI, bank_name: str, config: dict[str, Any]) -> Any:
    cfg_cls = api_cls.get_config_cls()
    try:
        return cfg_cls(name=bank_name, api=api_cls.get_name(), enabled=True, **config)
    except TypeError as exc:
        fields = [f.name for f in dataclasses.fields(cfg_cls) if f.name not in ("name", "api", "enabled")]
        raise ExchangeError(f"bad config for this exchange ({exc}); its fields are: {', '.join(fields)}") from None


def configure_exchange(bank_name: str, exchange: str, config: dict[str, Any]) -> None:
    """Link a bank to an exchange (replacing any earlier link and forgetting its checkpoint)."""
    classes = _exchange_classes()
    if exchange not in classes:
        raise ExchangeError(f"unknown exchange {exchange!r}; expected one of {', '.join(EXCHANGES)}")
    _collab(classes[exchange], bank_name, config)  # validate now, not at fetch time
    with session_scope() as session:
        bank = _bank(session, bank_name)
        row = session.scalar(select(ExchangeCheckpoint).where(ExchangeCheckpoint.bank_id == bank.id))
        if row is None:
            row = ExchangeCheckpoint(bank_id=bank.id, exchange=exchange)
            session.add(row)
        row.exchange = exchange
        row.config = dict(config)
        row.checkpoint = {}
        row.entries_fetched = 0
        bank.source = f"exchange:{exchange}"


def _load_checkpoint(api_cls: ExchangeAPI, data: dict[str, Any]) -> Any:
    if not data:
        return None
    return dacite.from_dict(api_cls.get_checkpoint_cls(), data, config=dacite.Config(check_types=False))


def fetch_exchange(bank_name: str, *, progress: Callable[[FetchResult], None] | None = None) -> FetchResult:
    """Fetch what is new since the stored checkpoint into the bank."""
    classes = _exchange_classes()
    with session_scope() as session:
        bank = _bank(session, bank_name)
        link = session.scalar(select(ExchangeCheckpoint).where(ExchangeCheckpoint.bank_id == bank.id))
        if link is None:
            raise ExchangeError(f"bank {bank_name!r} is not linked to an exchange (configure one first)")
        exchange, config, checkpoint_data = link.exchange, dict(link.config), dict(link.checkpoint or {})
    api_cls = classes[exchange]
    collab = _collab(api_cls, bank_name, config)
    try:
        api = api_cls.for_collab(collab)
        checkpoint = _load_checkpoint(api_cls, checkpoint_data)
        signal_types = _signal_types()
        result = FetchResult()
        for delta in api.fetch_iter(signal_types, checkpoint):
            _apply_delta(api_cls, collab, signal_types, bank_name, delta, result)
            if progress:
                progress(result)
    except (ExchangeError, LookupError):
        raise
    except Exception as exc:  # the client's own errors (auth, network, malformed data)
        raise ExchangeError(f"{exchange} fetch failed: {type(exc).__name__}: {exc}") from None
    return result


def _apply_delta(
    api_cls: ExchangeAPI, collab: Any, signal_types: list[type[TeSignalType]], bank_name: str, delta: Any, result: FetchResult
) -> None:
    updates = delta.updates
    live = {k: v for k, v in updates.items() if v is not None}
    deleted = [k for k, v in updates.items() if v is None]
    converted = api_cls.naive_convert_to_signal_type(signal_types, collab, live)
    rows: list[SignalRow] = []
    for te_type, signals in converted.items():
        found = te_signal_type(te_type.get_name())
        if found is None:
            result.skipped += len(signals)
            continue
        ours, content = found
        meta = {"exchange": api_cls.get_name(), **({CONTENT_TYPE: content} if content else {})}
        for signal in signals:
            rows.append(SignalRow(ours.name, signal, dict(meta)))
    valid: list[SignalRow] = []
    for row in rows:  # one bad signal from an exchange must not block the rest
        try:
            valid.extend(normalize_rows([row]))
        except ValueError:
            result.skipped += 1
    with session_scope() as session:
        bank = _bank(session, bank_name)
        added = _insert_entries(session, bank, valid)
        result.added += added.added
        result.duplicates += added.duplicates
        if deleted:
            result.removed += _delete_keys(session, bank.id, api_cls, collab, signal_types, deleted)
        link = session.scalar(select(ExchangeCheckpoint).where(ExchangeCheckpoint.bank_id == bank.id))
        if link is None:  # unlinked while fetching: this batch is not stored either (the transaction rolls back)
            raise ExchangeError(f"bank {bank_name!r} was unlinked from its exchange during the fetch")
        link.checkpoint = dataclasses.asdict(delta.checkpoint) if delta.checkpoint is not None else {}
        link.fetched_at = utcnow()
        link.entries_fetched = (link.entries_fetched or 0) + added.added
    result.batches += 1


def _delete_keys(
    session: Session, bank_id: int, api_cls: ExchangeAPI, collab: Any, signal_types: list[type[TeSignalType]], keys: list[Any]
) -> int:
    """Deletions: keys that name a (signal type, signal) pair directly (file and simple exchanges)."""
    removed = 0
    for key in keys:
        if not (isinstance(key, tuple) and len(key) == 2):
            continue
        found = te_signal_type(key[0])
        if found is None:
            continue
        ours = found[0].name
        try:
            value = normalize_rows([SignalRow(ours, key[1])])[0].signal
        except ValueError:
            continue
        entry = session.scalar(
            select(BankEntry).where(BankEntry.bank_id == bank_id, BankEntry.signal_type == ours, BankEntry.signal == value)
        )
        if entry is not None:
            if entry.enabled:
                _log_change(session, entry, "remove")
            session.delete(entry)
            removed += 1
    return removed
