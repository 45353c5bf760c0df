"""Filing one report end to end: submit -> upload and describe each file -> finish.

What happens on failure (recorded in docs/decisions.md):

* Everything is rendered and validated before the first request, so bad input never opens
  a report at NCMEC.
* A failure after ``/submit`` and before ``/finish`` **retracts** the open report, so a retry
  starts again from a clean ``/submit`` and NCMEC never receives half a report. If the retract
  itself fails, the error says so (``retracted=False``); an unfinished report is not processed
  by NCMEC, and ``settle_open_report`` can retract it later.
* A failure of ``/finish`` is ambiguous when it is a timeout or a 5xx: NCMEC may have finished
  the report. The flow then asks NCMEC by retracting: "already finished" (5102) means the
  report *was* filed and the flow returns success; a successful retract means it was not. Only
  if that question cannot be answered either is the error marked ``outcome_unknown``: such a
  filing must not be retried blindly (it could file the report twice); the dispatcher settles it
  with ``settle_open_report`` later.
* ``attempts`` > 1 retries the whole filing (a new report) after a retryable failure whose
  report was retracted or never opened; never after ``outcome_unknown``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from .client import CyberTiplineClient, CyberTiplineError, FinishResult
from .enums import ResponseCode
from .models import FileDetails, Report
from .xml import ReportValidationError, file_details_xml, report_xml

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class ReportFile:
    """One file to attach: its bytes, the name to upload it under, and its details (whose
    ``report_id``/``file_id`` the flow fills in)."""

    filename: str
    content: bytes
    details: FileDetails = field(default_factory=FileDetails)


class FilingError(CyberTiplineError):
    """``file_report`` failed at ``step``.

    ``report_id`` is the report NCMEC opened (None if ``/submit`` failed); ``retracted`` says
    whether it was retracted again; ``outcome_unknown`` says NCMEC may or may not have finished
    it; ``cause`` is the underlying ``CyberTiplineError``.
    """

    def __init__(
        self, step: str, cause: CyberTiplineError, *, report_id: int | None, retracted: bool, outcome_unknown: bool = False
    ) -> None:
        super().__init__(
            cause.code,
            f"filing failed at {step}: {cause.description}",
            http_status=cause.http_status,
            retryable=cause.retryable and not outcome_unknown,
            request_id=cause.request_id,
            endpoint=cause.endpoint,
        )
        self.step = step
        self.cause = cause
        self.report_id = report_id
        self.retracted = retracted
        self.outcome_unknown = outcome_unknown


def _validate(report: Report, files: list[ReportFile]) -> bytes:
    body = report_xml(report)
    for index, f in enumerate(files):
        if not f.filename:
            raise ReportValidationError(f"files[{index}]", "file name is required")
        if not f.content:
            raise ReportValidationError(f"files[{index}] ({f.filename})", "file is empty")
        # render once with placeholder ids so missing/invalid details fail before any request
        file_details_xml(dataclasses.replace(f.details, report_id=0, file_id="pending"))
    return body


def settle_open_report(client: CyberTiplineClient, report_id: int) -> bool:
    """Resolve a report left open or in doubt: retract it unless it is finished.

    Returns True when NCMEC says the report is finished (it was filed), False when it is now
    retracted (file again). Other errors propagate.
    """
    try:
        client.retract(report_id)
        return False
    except CyberTiplineError as exc:
        if exc.code == ResponseCode.REPORT_ALREADY_FINISHED:
            return True
        if exc.code == ResponseCode.REPORT_ALREADY_RETRACTED:
            return False
        raise


def _retract_quietly(client: CyberTiplineClient, report_id: int) -> bool:
    try:
        client.retract(report_id)
        return True
    except CyberTiplineError as exc:
        if exc.code == ResponseCode.REPORT_ALREADY_RETRACTED:
            return True
        log.warning("could not retract CyberTipline report %s: %s", report_id, exc)
        return False


def _file_once(client: CyberTiplineClient, body: bytes, files: list[ReportFile]) -> FinishResult:
    try:
        report_id = client.submit(body)
    except CyberTiplineError as exc:
        raise FilingError("submit", exc, report_id=None, retracted=False) from exc

    uploaded: list[str] = []
    step = "upload"
    try:
        for f in files:
            step = "upload"
            file_id = client.upload(report_id, f.filename, f.content)
            uploaded.append(file_id)
            step = "fileinfo"
            client.fileinfo(report_id, file_id, f.details)
    except CyberTiplineError as exc:
        retracted = _retract_quietly(client, report_id)
        raise FilingError(step, exc, report_id=report_id, retracted=retracted) from exc

    try:
        return client.finish(report_id)
    except CyberTiplineError as exc:
        if exc.code == ResponseCode.REPORT_ALREADY_FINISHED:
            return FinishResult(report_id=report_id, files=tuple(uploaded))
        try:
            finished = settle_open_report(client, report_id)
        except CyberTiplineError:
            raise FilingError("finish", exc, report_id=report_id, retracted=False, outcome_unknown=exc.retryable) from exc
        if finished:
            log.info("CyberTipline report %s was finished although /finish failed", report_id)
            return FinishResult(report_id=report_id, files=tuple(uploaded))
        raise FilingError("finish", exc, report_id=report_id, retracted=True) from exc


def file_report(client: CyberTiplineClient, report: Report, files: list[ReportFile], *, attempts: int = 1) -> FinishResult:
    """Submit ``report``, upload every file with its details, finish; see the module docstring
    for what happens on failure. Raises ``ReportValidationError`` (a ``ValueError``) before any
    request when the report or a file is incomplete, ``FilingError`` when NCMEC refuses."""
    if attempts < 1:
        raise ValueError("attempts must be >= 1")
    files = list(files)
    body = _validate(report, files)
    for attempt in range(1, attempts + 1):
        try:
            return _file_once(client, body, files)
        except FilingError as exc:
            clean = exc.report_id is None or exc.retracted
            if attempt < attempts and exc.retryable and clean:
                log.warning("CyberTipline filing attempt %s failed (%s); retrying", attempt, exc)
                continue
            raise
    raise AssertionError("unreachable")
