"""Validation against NCMEC's published schema (``cyber_tipline.xsd``, served at ``GET /xsd``).

The product does not ship the XSD: NCMEC publishes it and may change it. The tests and the local
simulator load it from the reference data (``$SURAKSHA_REFERENCE_DIR/ncmec/cyber_tipline.xsd``)
and check every report and fileDetails document against it, so the builders are held to NCMEC's
own value sets (incident types, annotations) rather than to the product's copy of them.
``schema.check_element`` stays the cheap structural check run before every filing.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from lxml import etree

from suraksha.errors import Unavailable

XSD_NAME = "cyber_tipline.xsd"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class SchemaMissing(Unavailable):
    """NCMEC's XSD is not where it was looked for (the message says where and how to fix it)."""


def default_xsd_path() -> Path:
    """``$SURAKSHA_REFERENCE_DIR/ncmec/cyber_tipline.xsd``; without the variable, the shared
    reference folder beside the checkout (``../shared/reference``)."""
    base = os.environ.get("SURAKSHA_REFERENCE_DIR")
    root = Path(base) if base else Path(__file__).resolve().parents[4].parent / "shared" / "reference"
    return root / "ncmec" / XSD_NAME


@lru_cache(maxsize=4)
def _load(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path, _PARSER))


def load_schema(path: Path | str | None = None) -> etree.XMLSchema:
    """NCMEC's schema, parsed once per path. Raises ``SchemaMissing`` naming the path when absent."""
    where = Path(path) if path is not None else default_xsd_path()
    if not where.is_file():
        raise SchemaMissing(
            f"NCMEC's schema {XSD_NAME} not found at {where}: set SURAKSHA_REFERENCE_DIR to the folder "
            f"holding ncmec/{XSD_NAME} (download it from the CyberTipline API's /xsd)"
        )
    return _load(str(where.resolve()))


def schema_errors(document: bytes | etree._Element, schema: etree.XMLSchema | None = None) -> list[str]:
    """Every way ``document`` breaks NCMEC's schema (``line N: message``); empty when it is valid."""
    schema = schema or load_schema()
    root = etree.fromstring(document, _PARSER) if isinstance(document, bytes) else document
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
