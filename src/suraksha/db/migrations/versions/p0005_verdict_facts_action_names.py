"""pipeline: items.facts (which kinds of condition fired, as data) and one name per action

1. ``items.facts`` (JSON, nullable): the verdict's facts, ``policy.model.Fact.to_json()`` —
   ``{"kind": hash|link|text|classifier|user_report|context, "rule": ..., <detail>}``. Transparency
   counts these instead of searching the English ``reasons`` for ``": score "``.

2. Backfill, once, from ``items.reasons`` (every item with a non-empty ``reasons``). Each reason is
   ``"<rule>: <words>"``, written by ``policy.conditions`` since its first version; the words map to
   a fact like this (``parse_reason`` below; the regular expressions are the only reading of the
   words anywhere, and they run here, once):

   ===============================================================  =================================
   words                                                            fact
   ===============================================================  =================================
   ``match in bank 'B' (label L, T distance D[, transform X])``     ``match`` fact; kind ``link`` for
                                                                    T url/domain, ``text`` for T text,
                                                                    else ``hash``; ``entry_id`` None
   ``score N V (bounds)``                                           ``classifier``, score N = V,
                                                                    ``classifier`` None (not recorded)
   ``onion address V in the text`` / ``link V``                     ``link``, text hit onion / link
   ``keyword 'V' in the text`` / ``text matching a regex: 'V'``     ``text``, text hit keyword / regex
   ``K hit 'V'``                                                    ``text``, text hit K
   ``item kind K`` / ``country C`` / ``always`` / ``no ...``        ``context`` (item_kind / country /
                                                                    always / not)
   anything else (e.g. the review demo's hand-written reasons)      ``context``, condition
                                                                    ``legacy_reason``, value = the
                                                                    reason: kept, counted as no signal
   ===============================================================  =================================

   Text values in reasons were clipped at 100 characters; the backfilled fact keeps the clipped
   value. Items whose reasons are empty keep ``facts`` NULL (read as "none").

3. Action names: ``remove`` became ``remove_item`` and ``withhold:<C>`` became
   ``withhold_in_country:<C>`` (the actions table's names, which it keeps). Rewritten in
   ``items.actions``, in the dedupe keys of ``action`` outbox messages (``42:action:remove`` ->
   ``42:action:remove_item``, so a rescan does not enqueue a second message), and in the payload of
   pending ``action`` messages, whose ``action`` becomes ``{"kind", "argument"}`` as the scan now
   writes it (delivered messages are history and are not read again).

Downgrade drops the column (in place, also on SQLite) and writes the old names back.

Revision ID: p0005
Revises: p0004
Create Date: 2026-12-02
"""
from __future__ import annotations

import ast
import json
import re
from typing import Any

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'p0005'
down_revision = 'p0004'
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
#: ``facts`` None is SQL NULL ("none recorded"), not the JSON value null.
FactsType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), 'postgresql')
BATCH = 2000

_MATCH = re.compile(r"^match in bank (?P<bank>'.*'|\".*\") \(label (?P<label>.*), (?P<signal_type>\S+) distance "
                    r"(?P<distance>\d+)(?:, transform (?P<transform>.*))?\)$")
_SCORE = re.compile(r"^score (?P<name>\S+) (?P<value>\S+) \(.*\)$")
_ONION = re.compile(r"^onion address (?P<value>.*) in the text$")
_KEYWORD = re.compile(r"^keyword (?P<value>'.*'|\".*\") in the text$")
_REGEX = re.compile(r"^text matching a regex: (?P<value>'.*'|\".*\")$")
_LINK = re.compile(r"^link (?P<value>.*)$")
_HIT = re.compile(r"^(?P<kind>\S+) hit (?P<value>'.*'|\".*\")$")
_RULE = re.compile(r"^(?P<rule>[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}): (?P<words>.*)$", re.S)


def _literal(text: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def _match_kind(signal_type: str) -> str:
    return "link" if signal_type in ("url", "domain") else "text" if signal_type == "text" else "hash"


def parse_reason(reason: str) -> dict[str, Any]:
    """One stored reason -> one fact (``Fact.to_json`` form). Never fails: unknown words are kept."""
    m = _RULE.match(reason)
    rule, words = (m.group("rule"), m.group("words")) if m else ("", reason)
    if (x := _MATCH.match(words)) is not None:
        st = x.group("signal_type")
        return {"kind": _match_kind(st), "rule": rule, "match": {
            "bank": _literal(x.group("bank")), "label": x.group("label"), "signal_type": st,
            "distance": int(x.group("distance")), "transform": x.group("transform"), "entry_id": None}}
    if (x := _SCORE.match(words)) is not None:
        try:
            value = float(x.group("value"))
        except ValueError:
            value = None
        if value is not None:
            return {"kind": "classifier", "rule": rule,
                    "score": {"classifier": None, "name": x.group("name"), "value": value}}
    if (x := _ONION.match(words)) is not None:
        return {"kind": "link", "rule": rule, "text": {"kind": "onion", "value": x.group("value")}}
    if (x := _KEYWORD.match(words)) is not None:
        return {"kind": "text", "rule": rule, "text": {"kind": "keyword", "value": _literal(x.group("value"))}}
    if (x := _REGEX.match(words)) is not None:
        return {"kind": "text", "rule": rule, "text": {"kind": "regex", "value": _literal(x.group("value"))}}
    if (x := _HIT.match(words)) is not None:
        kind = x.group("kind")
        return {"kind": "link" if kind in ("onion", "link") else "text", "rule": rule,
                "text": {"kind": kind, "value": _literal(x.group("value"))}}
    if (x := _LINK.match(words)) is not None:
        return {"kind": "link", "rule": rule, "text": {"kind": "link", "value": x.group("value")}}
    if words.startswith("item kind "):
        return {"kind": "context", "rule": rule, "condition": "item_kind", "value": words[len("item kind "):]}
    if words.startswith("country ") and len(words) == len("country ") + 2:
        return {"kind": "context", "rule": rule, "condition": "country", "value": words[-2:]}
    if words == "always":
        return {"kind": "context", "rule": rule, "condition": "always", "value": None}
    if words.startswith("no "):
        return {"kind": "context", "rule": rule, "condition": "not", "value": words[3:]}
    return {"kind": "context", "rule": "", "condition": "legacy_reason", "value": reason}


def new_action_name(action: Any) -> Any:
    if action == "remove":
        return "remove_item"
    if isinstance(action, str) and action.startswith("withhold:"):
        return "withhold_in_country:" + action.partition(":")[2].upper()
    return action


def old_action_name(action: Any) -> Any:
    if action == "remove_item":
        return "remove"
    if isinstance(action, str) and action.startswith("withhold_in_country:"):
        return "withhold:" + action.partition(":")[2]
    return action


def _load(value: Any) -> Any:
    """A JSON column read through a plain table: a list on PostgreSQL, text on SQLite."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _items_table() -> sa.Table:
    return sa.table('items', sa.column('id', sa.BigInteger), sa.column('reasons', JSONType),
                    sa.column('actions', JSONType), sa.column('facts', JSONType))


def _outbox_table() -> sa.Table:
    return sa.table('outbox_messages', sa.column('id', sa.BigInteger), sa.column('topic', sa.String),
                    sa.column('status', sa.String), sa.column('dedupe_key', sa.String), sa.column('payload', JSONType))


def _rewrite_items(conn: sa.Connection, *, upgrade: bool) -> None:
    items = _items_table()
    nonempty = sa.or_(sa.cast(items.c.reasons, sa.Text) != '[]', sa.cast(items.c.actions, sa.Text) != '[]')
    last = 0
    while True:
        rows = conn.execute(sa.select(items.c.id, items.c.reasons, items.c.actions)
                            .where(items.c.id > last, nonempty).order_by(items.c.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        updates = []
        for row in rows:
            reasons = _load(row.reasons) or []
            actions = _load(row.actions) or []
            if upgrade:
                facts = [parse_reason(str(r)) for r in reasons] if isinstance(reasons, list) and reasons else None
                renamed = [new_action_name(a) for a in actions] if isinstance(actions, list) else actions
                updates.append({"b_id": row.id, "b_actions": renamed, "b_facts": facts})
            else:
                renamed = [old_action_name(a) for a in actions] if isinstance(actions, list) else actions
                updates.append({"b_id": row.id, "b_actions": renamed})
        values = {"actions": sa.bindparam("b_actions", type_=JSONType)}
        if upgrade:
            values["facts"] = sa.bindparam("b_facts", type_=FactsType)
        conn.execute(sa.update(items).where(items.c.id == sa.bindparam("b_id")).values(**values), updates)


def _rewrite_outbox(conn: sa.Connection, *, upgrade: bool) -> None:
    if not sa.inspect(conn).has_table('outbox_messages'):
        return  # a new database: the outbox branch (o0001) creates the table, empty, on its own schedule
    box = _outbox_table()
    key = box.c.dedupe_key
    old, new = (':action:remove', ':action:remove_item') if upgrade else (':action:remove_item', ':action:remove')
    conn.execute(sa.update(box).where(box.c.topic == 'action', key.like('%' + old))
                 .values(dedupe_key=sa.func.substr(key, 1, sa.func.length(key) - len(old), type_=sa.String) + new))
    old, new = (':action:withhold:', ':action:withhold_in_country:') if upgrade else (':action:withhold_in_country:', ':action:withhold:')
    conn.execute(sa.update(box).where(box.c.topic == 'action', key.like('%' + old + '%'))
                 .values(dedupe_key=sa.func.replace(key, old, new)))
    rows = conn.execute(sa.select(box.c.id, box.c.payload)
                        .where(box.c.topic == 'action', box.c.status == 'pending').order_by(box.c.id)).all()
    updates = []
    for row in rows:
        payload = _load(row.payload) or {}
        action = payload.get("action")
        if upgrade and isinstance(action, str):
            name, _, arg = new_action_name(action).partition(":")
            payload["action"] = {"kind": name, "argument": arg or None}
        elif not upgrade and isinstance(action, dict):
            name = action.get("kind")
            text = f"{name}:{action['argument']}" if action.get("argument") else str(name)
            payload["action"] = old_action_name(text)
        else:
            continue
        updates.append({"b_id": row.id, "b_payload": payload})
    if updates:
        conn.execute(sa.update(box).where(box.c.id == sa.bindparam("b_id"))
                     .values(payload=sa.bindparam("b_payload", type_=JSONType)), updates)


def upgrade() -> None:
    # SQLite adds a nullable column in place (ALTER TABLE ADD COLUMN): no copy of the items table.
    with op.batch_alter_table('items') as batch:
        batch.add_column(sa.Column('facts', JSONType, nullable=True))
    conn = op.get_bind()
    _rewrite_items(conn, upgrade=True)
    _rewrite_outbox(conn, upgrade=True)


def downgrade() -> None:
    conn = op.get_bind()
    _rewrite_outbox(conn, upgrade=False)
    _rewrite_items(conn, upgrade=False)
    # Not batch mode: on SQLite it would copy the items table and drop the old one, and with foreign
    # keys on that DROP cascades to item_matches, item_scores and review rows. SQLite >= 3.35 drops
    # a column without constraints in place, as PostgreSQL does.
    op.execute('ALTER TABLE items DROP COLUMN facts')
