"""The signal-type interface and its registry.

A signal type says everything the rest of Suraksha needs to know about one kind of signal, so that
no other module compares type names: how a raw string becomes its one canonical spelling
(``normalize``), how far apart two values are and from what distance they match (``distance``,
``compare``, ``default_threshold``), which kind of index holds it (``index_kind``; the matcher
binds each kind to an index class), what python-threatexchange calls it (``te_name``, for bank
files and exchanges), and which signals of the type one piece of media or one link carries.

The shape follows python-threatexchange's ``SignalType`` (a small class per type, registered in
one list); the code is ours. Types are registered once, in ``suraksha.signals.types``; a new type
is one module plus one ``register`` call there (tests register toy types and unregister them).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, NamedTuple, TypeVar

from suraksha.signals.errors import InvalidSignal

if TYPE_CHECKING:  # only for annotations: suraksha.signals imports this package
    from suraksha.signals import MediaSignals

__all__ = [
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


class IndexKind(StrEnum):
    """Which kind of index holds a signal type; ``matching`` binds each kind to one index class."""

    EXACT = "exact"  # equal canonical strings (hashes of exact bytes, URLs, domains)
    PDQ = "pdq"  # 256-bit perceptual hashes within a Hamming distance (banks set the threshold)
    FRAMES = "frames"  # a video as PDQ frames: matched when enough of the query's frames are near
    KEYWORDS = "keywords"  # whole-word keywords and phrases found in free text


class SignalCategory(StrEnum):
    """What a match of the type says about the item: the kinds transparency counts and policy facts name."""

    HASH = "hash"  # the media itself matched (exact or perceptual hash)
    LINK = "link"  # a link in the item matched
    TEXT = "text"  # the item's words matched


class Comparison(NamedTuple):
    """The result of comparing a query with one banked value: whether it matches, and how far."""

    match: bool
    distance: int


class UnknownSignalType(InvalidSignal):
    """A signal type name that no registered type has."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown signal type {str(name)[:40]!r} (expected one of {', '.join(signal_type_names())})")
        self.name = name


class SignalType(ABC):
    """One kind of signal. Instances are stateless; one instance per type is registered.

    Subclasses set the class attributes and implement ``normalize`` and ``examples``; exact types
    need nothing else.
    """

    #: Suraksha's name: stored in bank rows, the change log and matches, accepted by the API and CLI.
    name: ClassVar[str]
    #: python-threatexchange's ``SignalType.get_name()`` for the same signal (None: it has none).
    te_name: ClassVar[str | None] = None
    #: A more precise threatexchange name when the content the signal came from is known
    #: (``{"photo": "photo_md5", "video": "video_md5"}``); ``te_name`` is used otherwise.
    te_names_by_content: ClassVar[Mapping[str, str]] = {}
    #: Further names read in threatexchange files and from exchanges (older or HMA spellings).
    te_aliases: ClassVar[tuple[str, ...]] = ()
    index_kind: ClassVar[IndexKind]
    category: ClassVar[SignalCategory]
    #: The distance up to which a query matches when a bank sets nothing else (0: equal values).
    default_threshold: ClassVar[int] = 0
    #: One line for the API documentation and CLI help.
    description: ClassVar[str] = ""

    @abstractmethod
    def normalize(self, value: str) -> str:
        """The canonical spelling of a raw signal string; raises InvalidSignal naming what is wrong.

        Canonical values are what banks store and indexes hold, so ``normalize`` of a canonical
        value returns it unchanged.
        """

    @abstractmethod
    def examples(self) -> tuple[str, ...]:
        """A few canonical values, for documentation and the contract test every type passes."""

    def distance(self, query: str, banked: str) -> int:
        """How far a canonical query is from a canonical banked value (exact types: 0 or 1)."""
        return 0 if query == banked else 1

    def compare(self, query: str, banked: str, threshold: int | None = None) -> Comparison:
        """Brute-force reference for the index that holds the type: does ``query`` match ``banked``
        at ``threshold`` (``default_threshold`` when None)? Indexes must agree with it."""
        d = self.distance(query, banked)
        return Comparison(d <= (self.default_threshold if threshold is None else threshold), d)

    def te_name_for(self, content_type: str | None) -> str | None:
        """The threatexchange name to write for a value taken from ``content_type`` (photo, video)."""
        if content_type is not None and content_type in self.te_names_by_content:
            return self.te_names_by_content[content_type]
        return self.te_name

    def from_media(self, media: MediaSignals) -> list[tuple[str, str]]:
        """This type's signal in one media's signals, as ``(transform, canonical value)`` pairs with
        ``"original"`` first and rotated / mirrored variants after; empty when the media has none
        usable (not an image, too flat to match on...)."""
        return []

    def related(self, canonical: str) -> list[tuple[str, str]]:
        """Other signals a value carries, as ``(type name, canonical value)``: a URL carries its
        host's domain. Looking a value up looks these up too where the caller asks for it."""
        return []

    def __repr__(self) -> str:
        return f"<signal type {self.name}>"


T = TypeVar("T", bound=SignalType)

_lock = threading.Lock()
_registry: dict[str, SignalType] = {}
_te_names: dict[str, tuple[SignalType, str | None]] = {}


def _te_names_of(st: SignalType) -> dict[str, str | None]:
    """Every threatexchange name of ``st`` -> the content type it implies (None: not implied)."""
    names: dict[str, str | None] = {alias: None for alias in st.te_aliases}
    if st.te_name is not None:
        names[st.te_name] = None
    names.update({te: content for content, te in st.te_names_by_content.items()})
    return names


def register(st: T) -> T:
    """Add a signal type. Its name and threatexchange names must not be taken by another type."""
    if not isinstance(st, SignalType):
        raise TypeError(f"expected a SignalType instance, got {type(st).__name__}")
    te = _te_names_of(st)
    with _lock:
        if st.name in _registry:
            raise ValueError(f"signal type {st.name!r} is already registered")
        taken = sorted(n for n in te if n in _te_names)
        if taken:
            raise ValueError(f"threatexchange name {taken[0]!r} already belongs to {_te_names[taken[0]][0].name!r}")
        _registry[st.name] = st
        _te_names.update({n: (st, content) for n, content in te.items()})
    return st


def unregister(name: str) -> None:
    """Remove a signal type (tests that register toy types). Unknown names are ignored."""
    with _lock:
        st = _registry.pop(name, None)
        if st is not None:
            for n in _te_names_of(st):
                _te_names.pop(n, None)


def find_signal_type(name: str) -> SignalType | None:
    """The registered type called ``name``, or None."""
    return _registry.get(name) if isinstance(name, str) else None


def get_signal_type(name: str) -> SignalType:
    """The registered type called ``name``; raises UnknownSignalType (an InvalidSignal) naming the known ones."""
    st = find_signal_type(name)
    if st is None:
        raise UnknownSignalType(name)
    return st


def signal_types() -> tuple[SignalType, ...]:
    """Every registered type, in registration order."""
    return tuple(_registry.values())


def signal_type_names() -> tuple[str, ...]:
    """Every registered type's name, in registration order."""
    return tuple(_registry)


def te_signal_type(te_name: str) -> tuple[SignalType, str | None] | None:
    """The type a threatexchange name stands for, and the content type the name implies
    (``video_md5`` -> md5 of a video); None for a name no registered type has."""
    return _te_names.get(te_name) if isinstance(te_name, str) else None
