"""The signal types Suraksha knows, registered once (see ``base`` for the interface).

Names follow python-threatexchange so banks interoperate. To add a type: write a module with a
``SignalType`` subclass and register an instance below; banks, bank files, exchanges, the API and
the matcher pick it up from the registry (its ``index_kind`` decides which index holds it).
"""

from __future__ import annotations

from suraksha.signals.types.base import (
    Comparison,
    IndexKind,
    SignalCategory,
    SignalType,
    UnknownSignalType,
    find_signal_type,
    get_signal_type,
    register,
    signal_type_names,
    signal_types,
    te_signal_type,
    unregister,
)
from suraksha.signals.types.hashes import Md5Signal, Sha256Signal
from suraksha.signals.types.links import DomainSignal, UrlSignal
from suraksha.signals.types.pdq import PdqSignal
from suraksha.signals.types.text import TextSignal
from suraksha.signals.types.vpdq import VpdqSignal

SHA256 = register(Sha256Signal())
MD5 = register(Md5Signal())
PDQ = register(PdqSignal())
VPDQ = register(VpdqSignal())
URL = register(UrlSignal())
DOMAIN = register(DomainSignal())
TEXT = register(TextSignal())

__all__ = [
    "DOMAIN",
    "MD5",
    "PDQ",
    "SHA256",
    "TEXT",
    "URL",
    "VPDQ",
    "Comparison",
    "IndexKind",
    "SignalCategory",
    "SignalType",
    "UnknownSignalType",
    "find_signal_type",
    "get_signal_type",
    "register",
    "signal_type_names",
    "signal_types",
    "te_signal_type",
    "unregister",
]
