"""Read the expected XML of the reference snapshot files (``../shared/reference/ncmec``).

Each file holds entries ``exports[`<describe> > <test> 1`] = `\\n"<json string>"\\n`;`: a
template literal wrapping a double-quoted string. We undo the template-literal escaping, then
decode the string as JSON.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from lxml import etree

NCMEC_REFERENCE = (
    Path(os.environ.get("SURAKSHA_REFERENCE_DIR") or Path(__file__).resolve().parents[2].parent / "shared" / "reference")
    / "ncmec"
)

_ENTRY = re.compile(r"exports\[`(?P<name>.*?)`\] = `\n(?P<body>.*?)\n`;", re.DOTALL)


def _untemplate(text: str) -> str:
    return re.sub(r"\\([\\`$])", r"\1", text)


def load_snapshots(path: Path) -> dict[str, str]:
    """``{"describe > test": xml}`` for one snapshot file (the trailing `` 1`` dropped)."""
    out: dict[str, str] = {}
    for match in _ENTRY.finditer(path.read_text(encoding="utf-8")):
        name = match.group("name").removesuffix(" 1")
        out[name] = json.loads(_untemplate(match.group("body")))
    return out


def all_snapshots() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for path in sorted(NCMEC_REFERENCE.glob("*.snapshot.txt")):
        for name, xml in load_snapshots(path).items():
            out[(path.name, name)] = xml
    return out


def canonical(xml: str | bytes) -> str:
    """C14N 2.0 of a document or fragment: same elements, order, attributes and text compare
    equal; attribute order, quoting and ``<a/>`` vs ``<a></a>`` do not matter."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    return etree.tostring(root, method="c14n2").decode("utf-8")
