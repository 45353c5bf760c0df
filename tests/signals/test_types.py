"""The signal-type registry: one contract every registered type passes, and the registry's rules.

The contract runs over whatever is registered, so a new type is checked by adding it, as
python-threatexchange's per-type test helper does.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from suraksha import signals
from suraksha.signals import InvalidSignal, normalize_signal
from suraksha.signals.types import (
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

BUILTIN = ("sha256", "md5", "pdq", "vpdq", "url", "domain", "text")
GARBAGE = ("", "   ", "\x00", "zz" * 40, '["not a frame"]')


def _ids(types: tuple[SignalType, ...]) -> list[str]:
    return [st.name for st in types]


@pytest.fixture(params=signal_types(), ids=_ids(signal_types()))
def st(request: pytest.FixtureRequest) -> SignalType:
    return request.param  # type: ignore[no-any-return]


def test_builtin_types_are_registered_once_in_threatexchange_order():
    assert signal_type_names() == BUILTIN
    assert signals.SIGNAL_TYPES == BUILTIN  # the old constant is a read of the registry


def test_contract_examples_are_canonical_and_normalise_to_themselves(st):
    examples = st.examples()
    assert len(examples) >= 2 and len(set(examples)) == len(examples)
    for value in examples:
        assert st.normalize(value) == value
        assert normalize_signal(st.name, value) == value
        assert st.normalize(st.normalize(value)) == value


def test_contract_garbage_is_refused_with_a_one_line_reason(st):
    refused = 0
    for raw in GARBAGE:
        try:
            value = st.normalize(raw)
        except InvalidSignal as exc:
            refused += 1
            assert str(exc) and "\n" not in str(exc)
        else:  # a text keyword may be almost anything: then it is canonical
            assert st.normalize(value) == value
    assert refused >= 2


def test_contract_a_value_matches_itself_at_distance_zero_and_compare_agrees_with_distance(st):
    examples = st.examples()
    for a in examples:
        assert st.compare(a, a) == (True, 0)
        for b in examples:
            d = st.distance(a, b)
            assert d >= 0
            if st.index_kind is not IndexKind.FRAMES:  # vPDQ: the share of frames decides, not one distance
                assert st.compare(a, b).match == (d <= st.default_threshold)


def test_contract_threatexchange_names_lead_back_to_the_type(st):
    names = [st.te_name, *st.te_aliases, *st.te_names_by_content.values()]
    for name in filter(None, names):
        found = te_signal_type(name)
        assert found is not None and found[0] is st, name
    for content, name in st.te_names_by_content.items():
        assert st.te_name_for(content) == name
        assert te_signal_type(name) == (st, content)
    assert st.te_name_for(None) == st.te_name
    assert isinstance(st.index_kind, IndexKind) and isinstance(st.category, SignalCategory)
    assert st.description


def test_unknown_type_names_the_known_ones():
    with pytest.raises(UnknownSignalType, match=r"unknown signal type 'sha1' \(expected one of sha256, md5, pdq"):
        get_signal_type("sha1")
    with pytest.raises(InvalidSignal, match="unknown signal type"):  # callers catching ValueError keep working
        normalize_signal("sha1", "a" * 40)
    assert find_signal_type("sha1") is None and find_signal_type(None) is None  # type: ignore[arg-type]


def test_threatexchange_names_say_which_content_a_hash_came_from():
    md5 = get_signal_type("md5")
    assert te_signal_type("video_md5") == (md5, "video")
    assert te_signal_type("photo_md5") == (md5, "photo")
    assert te_signal_type("md5") == (md5, None)
    assert md5.te_name_for("photo") == "photo_md5" and md5.te_name_for(None) == "video_md5"
    assert te_signal_type("raw_text") == (get_signal_type("text"), None)
    assert get_signal_type("domain").te_name is None  # threatexchange has no domain type
    assert te_signal_type("photo_sha1") is None


def test_a_url_carries_its_domain_in_canonical_form():
    url = get_signal_type("url")
    assert url.related("https://www.www.dup.example/x") == [("domain", "dup.example")]
    assert url.related("https://bad.example/a") == [("domain", "bad.example")]
    assert url.related("http://[2001:db8::1]:8443/v") == [("domain", "2001:db8::1")]  # matches nothing, refuses nothing


class _Toy(SignalType):
    name = "toy"
    te_name = "toy_hash"
    index_kind = IndexKind.EXACT
    category = SignalCategory.HASH
    description = "a toy"

    def normalize(self, value: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InvalidSignal("a toy is not empty")
        return value.strip()

    def examples(self) -> tuple[str, ...]:
        return ("a", "b")


class _Clash(_Toy):
    name = "clash"
    te_aliases: ClassVar[tuple[str, ...]] = ("video_md5",)


def test_register_and_unregister_a_type():
    toy = register(_Toy())
    try:
        assert signal_type_names()[-1] == "toy" and signals.SIGNAL_TYPES[-1] == "toy"
        assert normalize_signal("toy", " a ") == "a"
        assert te_signal_type("toy_hash") == (toy, None)
        with pytest.raises(ValueError, match="already registered"):
            register(_Toy())
    finally:
        unregister("toy")
    assert find_signal_type("toy") is None and te_signal_type("toy_hash") is None
    assert signal_type_names() == BUILTIN
    unregister("toy")  # unknown names are ignored


def test_a_threatexchange_name_belongs_to_one_type():
    with pytest.raises(ValueError, match="'video_md5' already belongs to 'md5'"):
        register(_Clash())
    assert find_signal_type("clash") is None
    with pytest.raises(TypeError):
        register("sha1")  # type: ignore[type-var]
