"""Loading and validating a policy file: every mistake is refused at load time with one clear reason.

A policy is YAML (read with ``yaml.safe_load``: no tags, no code)::

    version: 1                      # optional; only 1 exists
    settings:                       # optional; defaults in PolicySettings
      require_review_before_report: true     # or false, or a list of destinations
      two_person_rule: false
    rules:
      - name: csam-match
        when: {match: {label: csam}}
        verdict: remove
        actions: [remove_item, suspend_account, preserve, "report:ncmec", "review:csam"]
        priority: 100

Actions are parsed here, once, into ``ActionRequest`` objects (``policy.actions``). The names before
the typed actions, ``remove`` and ``withhold:<country>``, are still read as ``remove_item`` and
``withhold_in_country:<country>``: the policy's ``deprecations`` lists each use and it is logged once
per process, so an operator's own policy file keeps working until it is rewritten.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from suraksha.policy.actions import (
    NEEDS_REMOVE_VERDICT,
    POLICY_ACTIONS,
    REPORT_DESTINATIONS,
    ActionKind,
    ActionRequest,
    InvalidAction,
    forms,
)
from suraksha.policy.conditions import ConditionError, parse_condition, suggest, unknown_key
from suraksha.policy.decisions import parse_decisions
from suraksha.policy.engine import Policy, PolicySettings, Rule
from suraksha.policy.errors import PolicyError
from suraksha.policy.model import VERDICTS

log = logging.getLogger(__name__)

TOP_KEYS = ("version", "settings", "rules", "decisions", "reports_by_country")
SETTINGS_KEYS = ("require_review_before_report", "two_person_rule")
RULE_KEYS = ("name", "description", "when", "verdict", "actions", "priority", "stop")
#: Spellings from before the typed actions, still read (with a deprecation note): old name -> kind.
RENAMED_ACTIONS: dict[str, ActionKind] = {"remove": ActionKind.REMOVE_ITEM, "withhold": ActionKind.WITHHOLD_IN_COUNTRY}
MAX_PRIORITY = 100
MAX_POLICY_BYTES = 1_000_000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_logged: set[tuple[str | None, str]] = set()
_logged_lock = threading.Lock()


def load_policy(source: str | Path | Mapping[str, Any]) -> Policy:
    """A policy from YAML text, a file path (``str`` or ``Path``) or an already-parsed mapping.

    A ``str`` is read as a path when it is one line ending in ``.yaml``/``.yml`` or naming an
    existing file; otherwise it is YAML text. Raises PolicyError for every problem.
    """
    path: str | None = None
    if isinstance(source, Mapping):
        return _build(source, None)
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and (source.strip().endswith((".yaml", ".yml")) or Path(source).is_file())
    ):
        path = str(source)
        try:
            raw = Path(path).read_bytes()
        except FileNotFoundError:
            raise PolicyError(f"policy file {path!r} not found") from None
        except OSError as exc:
            raise PolicyError(f"policy file {path!r} cannot be read: {exc.strerror or exc}") from None
        if len(raw) > MAX_POLICY_BYTES:
            raise PolicyError(f"policy file {path!r} is over {MAX_POLICY_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyError(f"policy file {path!r} is not UTF-8 text") from None
    elif isinstance(source, str):
        text = source
    else:
        raise PolicyError(f"a policy is YAML text, a path or a mapping, not {type(source).__name__}")
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(f"not valid YAML{where}: {problem}") from None
    if path is None and isinstance(data, str) and "\n" not in text.strip():
        raise PolicyError(f"{text.strip()[:200]!r} is neither an existing policy file nor a YAML policy")
    return _build(data, path)


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The shipped default (``policy/default.yaml``), loaded once per process; policies are immutable."""
    text = resources.files("suraksha.policy").joinpath("default.yaml").read_text(encoding="utf-8")
    return load_policy(text)


class _StrictLoader(yaml.SafeLoader):
    """``yaml.safe_load`` that refuses a key given twice in one mapping.

    Plain YAML keeps the last value silently, so a second ``when:`` (or ``match:`` inside one
    condition) would quietly replace the first and change what a rule catches.
    """


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults` may be overridden on purpose
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            seen = key in first_line
        except TypeError:  # an unhashable key; the base constructor reports it
            continue
        if seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} given twice in one mapping (first at line {first_line[key] + 1})", key_node.start_mark
            )
        first_line[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

#: Values a policy may expand to once YAML aliases are followed (the default policy has ~100).
MAX_POLICY_VALUES = 100_000


def _check_expanded_size(data: Any) -> None:
    """Refuse alias bombs: ``&a [*b, *b, ...]`` nested a few times is tiny text but billions of values."""
    count, stack = 0, [data]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_POLICY_VALUES:
            raise PolicyError(f"the policy expands to over {MAX_POLICY_VALUES} values (YAML aliases nested in each other?)")
        if isinstance(node, Mapping):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _build(data: Any, path: str | None) -> Policy:
    _check_expanded_size(data)
    if not isinstance(data, Mapping):
        raise PolicyError("a policy is a mapping with a 'rules' list" + ("" if data is not None else " (the document is empty)"))
    for key in data:
        if key not in TOP_KEYS:
            raise PolicyError(unknown_key(key, TOP_KEYS), field=str(key))
    version = data.get("version", 1)
    if version != 1 or isinstance(version, bool):
        raise PolicyError(f"unsupported version {version!r}; this Suraksha reads version 1", field="version")
    settings = _settings(data.get("settings"))
    raw_rules = data.get("rules")
    if raw_rules is None:
        raise PolicyError("missing: a policy needs at least one rule", field="rules")
    if not isinstance(raw_rules, list):
        raise PolicyError(f"must be a list of rules, got {type(raw_rules).__name__}", field="rules")
    if not raw_rules:
        raise PolicyError("empty: a policy needs at least one rule", field="rules")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    notes: list[tuple[int, str]] = []
    for i, raw in enumerate(raw_rules, start=1):
        rule = _rule(raw, i, notes)
        if rule.name in seen:
            raise PolicyError(
                f"duplicate rule name; rule #{seen[rule.name]} is already called {rule.name!r}",
                rule=rule.name,
                index=i,
                field="name",
            )
        seen[rule.name] = i
        rules.append(rule)
    deprecations = tuple(note for _, note in notes)
    _log_deprecations(path, deprecations)
    decisions = parse_decisions(data.get("decisions"), data.get("reports_by_country"))
    return Policy(rules=tuple(rules), settings=settings, source=path, deprecations=deprecations, decisions=decisions)


def _log_deprecations(path: str | None, deprecations: tuple[str, ...]) -> None:
    """Each old spelling once per process and file (policies are loaded again by some callers)."""
    with _logged_lock:
        new = [d for d in deprecations if (path, d) not in _logged]
        _logged.update((path, d) for d in new)
    for d in new:
        log.warning("policy %s: %s", path or "(text)", d)


def _settings(raw: Any) -> PolicySettings:
    if raw is None:
        return PolicySettings()
    if not isinstance(raw, Mapping):
        raise PolicyError("must be a mapping", field="settings")
    for key in raw:
        if key not in SETTINGS_KEYS:
            raise PolicyError(unknown_key(key, SETTINGS_KEYS), field=f"settings.{key}")
    default = PolicySettings()
    review = raw.get("require_review_before_report", None)
    if review is None:
        destinations = default.require_review_before_report
    elif review is True:
        destinations = frozenset(REPORT_DESTINATIONS)
    elif review is False:
        destinations = frozenset()
    elif isinstance(review, list):
        for j, d in enumerate(review):
            if d not in REPORT_DESTINATIONS:
                raise PolicyError(
                    f"unknown report destination {d!r}{suggest(d, REPORT_DESTINATIONS)}; expected one of "
                    f"{', '.join(REPORT_DESTINATIONS)}",
                    field=f"settings.require_review_before_report[{j}]",
                )
        destinations = frozenset(review)
    else:
        raise PolicyError(
            f"must be true, false or a list of destinations, got {review!r}", field="settings.require_review_before_report"
        )
    two = raw.get("two_person_rule", default.two_person_rule)
    if not isinstance(two, bool):
        raise PolicyError(f"must be true or false, got {two!r}", field="settings.two_person_rule")
    return PolicySettings(require_review_before_report=destinations, two_person_rule=two)


def _rule(raw: Any, index: int, notes: list[tuple[int, str]]) -> Rule:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"a rule is a mapping with name, when and verdict, got {type(raw).__name__}", index=index)
    name = raw.get("name")
    label = name if isinstance(name, str) else None

    def fail(field: str, reason: str) -> PolicyError:
        return PolicyError(reason, rule=label, index=index, field=field)

    for key in raw:
        if key not in RULE_KEYS:
            raise fail(str(key), unknown_key(key, RULE_KEYS))
    if name is None:
        raise fail("name", "missing: every rule needs a name (it is recorded with each verdict)")
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail("name", f"must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit, got {name!r}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise fail("description", "must be text")
    if "when" not in raw:
        raise fail("when", "missing: the condition under which the rule fires, e.g. {match: {label: csam}}")
    try:
        when = parse_condition(raw["when"], "when")
    except ConditionError as exc:
        raise fail(exc.field, exc.reason) from None
    verdict = raw.get("verdict")
    if verdict is None:
        raise fail("verdict", f"missing: one of {', '.join(VERDICTS)}")
    if verdict not in VERDICTS:
        raise fail("verdict", f"unknown verdict {verdict!r}{suggest(verdict, VERDICTS)}; expected one of {', '.join(VERDICTS)}")
    raw_actions = raw.get("actions", [])
    if raw_actions is None:
        raw_actions = []
    if not isinstance(raw_actions, list):
        raise fail("actions", f"must be a list such as [remove, preserve], got {type(raw_actions).__name__}")
    actions: list[ActionRequest] = []
    action_priority: int | None = None
    for j, a in enumerate(raw_actions):
        try:
            action, old = _action(a)
        except ValueError as exc:
            raise fail(f"actions[{j}]", str(exc)) from None
        if old is not None:
            where = f"rule #{index} {label!r}: actions[{j}]"
            notes.append(
                (
                    index,
                    f"{where}: {old!r} is the old name of {str(action)!r}; write {str(action)!r} "
                    f"(the old name is still read, for now)",
                )
            )
        if isinstance(action, int):
            if action_priority is not None:
                raise fail(f"actions[{j}]", "priority given twice")
            action_priority = action
            continue
        if action.kind in NEEDS_REMOVE_VERDICT and verdict != "remove":
            raise fail(f"actions[{j}]", f"action {str(action)!r} needs verdict remove (the rule says {verdict})")
        if action.kind is ActionKind.REPORT and verdict == "allow":
            raise fail(f"actions[{j}]", f"action {str(action)!r} needs verdict review or remove: an allowed item is not reported")
        if action not in actions:
            actions.append(action)
    priority = raw.get("priority")
    if priority is not None:
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= MAX_PRIORITY:
            raise fail("priority", f"must be a whole number from 0 to {MAX_PRIORITY}, got {priority!r}")
        if action_priority is not None and action_priority != priority:
            raise fail("priority", f"priority {priority} disagrees with action 'priority:{action_priority}'; give it once")
    stop = raw.get("stop", False)
    if not isinstance(stop, bool):
        raise fail("stop", f"must be true or false, got {stop!r}")
    return Rule(
        name=name,
        index=index,
        when=when,
        verdict=verdict,
        actions=tuple(actions),
        priority=priority if priority is not None else (action_priority or 0),
        stop=stop,
        description=description,
    )


def _action(a: Any) -> tuple[ActionRequest | int, str | None]:
    """One entry of ``actions``: an ActionRequest (or the number of ``priority:<n>``), and the old
    spelling it was written in (None when current). ValueError with the reason otherwise."""
    if not isinstance(a, str):
        hint = ' (quote actions with a colon: "report:ncmec")' if isinstance(a, Mapping) else ""
        raise ValueError(f"an action is a string such as 'remove_item' or 'report:ncmec', got {a!r}{hint}")
    text = a.strip()
    name, colon, arg = text.partition(":")
    if name == "priority":
        if not colon:
            raise ValueError(f"action {a!r} needs a value: priority:<0-{MAX_PRIORITY}>")
        if not arg.isdigit() or not 0 <= int(arg) <= MAX_PRIORITY:
            raise ValueError(f"priority must be a whole number from 0 to {MAX_PRIORITY}, got {arg!r}")
        return int(arg), None
    old = None
    if name in RENAMED_ACTIONS:
        old, name = text, RENAMED_ACTIONS[name].value
    try:
        kind = ActionKind(name)
    except ValueError:
        raise ValueError(f"unknown action {a!r}{suggest(a, _all_examples())}; expected one of {_expected()}") from None
    if kind not in POLICY_ACTIONS:
        raise ValueError(f"action {a!r} is not one a policy can ask for; expected one of {_expected()}")
    if not colon and kind.argument_name is not None:
        raise ValueError(f"action {a!r} needs a value: {forms(kind)}")
    try:
        return ActionRequest(kind, arg if colon else None), old
    except InvalidAction as exc:
        raise ValueError(str(exc)) from None


def _expected() -> str:
    return ", ".join(forms(k) for k in POLICY_ACTIONS) + f", priority:<0-{MAX_PRIORITY}>"


def _all_examples() -> tuple[str, ...]:
    simple = tuple(k.value for k in POLICY_ACTIONS if k.argument_name is None)
    return simple + tuple(f"report:{d}" for d in REPORT_DESTINATIONS) + ("review:", "priority:", "withhold_in_country:")
