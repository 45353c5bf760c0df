"""Import every area's models so ``Base.metadata`` is complete (Alembic, test fixtures)."""

from __future__ import annotations

import importlib

# Areas that own tables. Add an area here when it gets its first model.
AREAS_WITH_MODELS = [
    "suraksha.matching.models",
    "suraksha.outbox.models",
    "suraksha.items.models",
    "suraksha.pipeline.models",
    "suraksha.enforcement.models",
    "suraksha.api.models",
    "suraksha.auth.models",
    "suraksha.cases.models",
    "suraksha.audit.models",
    "suraksha.evidence.models",
    "suraksha.reporting.models",
    "suraksha.legal.models",
    "suraksha.legal.officers",
    "suraksha.networks.models",
]


def import_all_models() -> None:
    for module in AREAS_WITH_MODELS:
        importlib.import_module(module)
