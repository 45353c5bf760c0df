"""Legal requests: intake, verification, deadlines, work (orders, data, preservation), disclosures.

The service functions below are the whole interface; the CLI (``legal/cli.py``), the REST router
(``api/routers/legal.py``) and the web pages call them. See docs/legal.md.
"""

from suraksha.legal.deadlines import dashboard, escalate_due, list_notifications
from suraksha.legal.disclosure import (
    approve,
    build_package,
    download_disclosure,
    list_disclosures,
    public_key_b64,
    verify_package,
)
from suraksha.legal.intake import (
    add_document,
    add_reminder,
    file_request,
    get_agency,
    get_request,
    list_agencies,
    list_requests,
    register_agency,
    request_history,
)
from suraksha.legal.orders import settle_orders
from suraksha.legal.schemas import (
    DisclosureNotFound,
    LegalConflict,
    LegalError,
    LegalForbidden,
    RequestIn,
    RequestNotFound,
    TargetIn,
)
from suraksha.legal.verification import answer_check, run_checks
from suraksha.legal.work import (
    answer_request,
    execute_order,
    gather,
    mark_data_point,
    preserve_for_request,
    record_outside_action,
)

__all__ = [
    "DisclosureNotFound",
    "LegalConflict",
    "LegalError",
    "LegalForbidden",
    "RequestIn",
    "RequestNotFound",
    "TargetIn",
    "add_document",
    "add_reminder",
    "answer_check",
    "answer_request",
    "approve",
    "build_package",
    "dashboard",
    "download_disclosure",
    "escalate_due",
    "execute_order",
    "file_request",
    "gather",
    "get_agency",
    "get_request",
    "list_agencies",
    "list_disclosures",
    "list_notifications",
    "list_requests",
    "mark_data_point",
    "preserve_for_request",
    "record_outside_action",
    "settle_orders",
    "public_key_b64",
    "register_agency",
    "request_history",
    "run_checks",
    "verify_package",
]
