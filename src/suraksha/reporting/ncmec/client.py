"""HTTP client of NCMEC's CyberTipline Reporting API.

One method per endpoint (``status``, ``submit``, ``upload``, ``fileinfo``, ``finish``,
``retract``). Every response body is NCMEC's XML (``reportResponse``, or ``reportDoneResponse``
for ``/finish``); a non-zero ``responseCode``, an HTTP error or a network error raises
``CyberTiplineError``, whose ``retryable`` flag tells the caller (the outbox dispatcher) whether
trying again later can succeed.

Credentials travel only in the ``Authorization`` header that httpx builds; they are never logged,
never put in an exception and never shown by ``repr``. Request and response bodies carry
personal data and are not logged either: the log says endpoint, response code and NCMEC's
``Request-ID``, which is what NCMEC support asks for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass

import httpx
from lxml import etree

from .enums import Environment, ResponseCode
from .models import FileDetails, Report
from .schema import check_document
from .xml import ReportValidationError, file_details_xml, report_xml

log = logging.getLogger(__name__)

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_MAX_RESPONSE_BYTES = 1024 * 1024


class CyberTiplineError(Exception):
    """A CyberTipline call failed.

    ``code`` is NCMEC's ``responseCode`` when the server sent one (see ``ResponseCode``), else
    ``None`` (network error, unparseable body). ``retryable`` is true for network errors, HTTP
    5xx/429 and NCMEC's 1xxx (server-side save/upload) codes: the same request may succeed later.
    """

    def __init__(
        self,
        code: int | None,
        description: str,
        *,
        http_status: int | None = None,
        retryable: bool = False,
        request_id: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.code = code
        self.description = description
        self.http_status = http_status
        self.retryable = retryable
        self.request_id = request_id
        self.endpoint = endpoint
        parts = [f"{endpoint or 'CyberTipline'}:"]
        if code is not None:
            name = ResponseCode(code).name if code in ResponseCode._value2member_map_ else "unknown"
            parts.append(f"code {code} ({name})")
        if http_status is not None:
            parts.append(f"HTTP {http_status}")
        parts.append(f"- {description}")
        if request_id:
            parts.append(f"(Request-ID {request_id})")
        super().__init__(" ".join(parts))


@dataclass(frozen=True)
class ApiResponse:
    """The parsed body of one CyberTipline response."""

    code: int
    description: str
    report_id: int | None = None
    file_id: str | None = None
    hash: str | None = None
    file_ids: tuple[str, ...] = ()
    request_id: str | None = None


@dataclass(frozen=True)
class StatusResult:
    code: int
    description: str  # NCMEC echoes the remote user and IP here
    request_id: str | None


@dataclass(frozen=True)
class FinishResult:
    report_id: int
    files: tuple[str, ...]


def _is_retryable(http_status: int | None, code: int | None) -> bool:
    if http_status is not None and (http_status >= 500 or http_status == 429):
        return True
    return code is not None and 1000 <= code < 2000


def parse_response(
    body: bytes, *, endpoint: str = "", http_status: int | None = None, request_id: str | None = None
) -> ApiResponse:
    """Parse ``reportResponse``/``reportDoneResponse``; a body that is not one of them raises
    a retryable ``CyberTiplineError`` (a proxy's error page, a truncated response)."""

    def bad(why: str) -> CyberTiplineError:
        return CyberTiplineError(
            None,
            f"unreadable response: {why}",
            http_status=http_status,
            retryable=True,
            request_id=request_id,
            endpoint=endpoint,
        )

    if len(body) > _MAX_RESPONSE_BYTES:
        raise bad("too large")
    try:
        root = etree.fromstring(body, _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise bad(f"not XML ({exc.msg})") from None
    if root.tag not in ("reportResponse", "reportDoneResponse"):
        raise bad(f"unexpected root <{root.tag}>")
    code_text = (root.findtext("responseCode") or "").strip()
    try:
        code = int(code_text)
    except ValueError:
        raise bad(f"responseCode {code_text!r} is not a number") from None
    report_id_text = (root.findtext("reportId") or "").strip()
    try:
        report_id = int(report_id_text) if report_id_text else None
    except ValueError:
        raise bad(f"reportId {report_id_text!r} is not a number") from None
    return ApiResponse(
        code=code,
        description=(root.findtext("responseDescription") or "").strip(),
        report_id=report_id,
        file_id=(root.findtext("fileId") or "").strip() or None,
        hash=(root.findtext("hash") or "").strip() or None,
        file_ids=tuple((e.text or "").strip() for e in root.findall("files/fileId")),
        request_id=request_id,
    )


class CyberTiplineClient:
    """Client of one CyberTipline environment.

    ``environment`` picks NCMEC's test or production base URL; ``base_url`` overrides it (a
    proxy, a local simulator). The default is the test environment: production is only ever
    reached by asking for it. ``transport`` is handed to httpx (tests pass a
    ``httpx.MockTransport`` that runs the simulator).
    """

    def __init__(
        self,
        *,
        username: str,
        password: str,
        environment: Environment | str = Environment.TEST,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
    ) -> None:
        if not username or not password:
            raise ValueError("CyberTipline username and password are required")
        self.environment = Environment(environment)
        self.base_url = (base_url or self.environment.base_url).rstrip("/")
        self.username = username
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(username, password),
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": "suraksha-cybertipline/1"},
        )

    @classmethod
    def from_settings(cls, settings, *, transport: httpx.BaseTransport | None = None) -> CyberTiplineClient:
        """Build from ``NcmecSettings`` (environment ``SURAKSHA_NCMEC_*``)."""
        if not settings.username or settings.password is None:
            raise ValueError("SURAKSHA_NCMEC_USERNAME and SURAKSHA_NCMEC_PASSWORD must be set to report to NCMEC")
        return cls(
            username=settings.username,
            password=settings.password.get_secret_value(),
            environment=settings.environment,
            base_url=settings.base_url,
            transport=transport,
            timeout=settings.timeout_s,
        )

    def __repr__(self) -> str:  # never the password
        return f"CyberTiplineClient(base_url={self.base_url!r}, username={self.username!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CyberTiplineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport ------------------------------------------------------------------------------

    def _call(self, method: str, endpoint: str, **kwargs) -> ApiResponse:
        try:
            response = self._http.request(method, endpoint, **kwargs)
        except httpx.TransportError as exc:
            log.warning("CyberTipline %s %s: network error %s", method, endpoint, type(exc).__name__)
            raise CyberTiplineError(None, f"network error ({type(exc).__name__})", retryable=True, endpoint=endpoint) from None
        request_id = response.headers.get("Request-ID")
        status = response.status_code
        try:
            parsed = parse_response(response.content, endpoint=endpoint, http_status=status, request_id=request_id)
        except CyberTiplineError as exc:
            if response.is_success:
                raise
            # an HTTP error without NCMEC's XML body (a proxy page, an empty 401)
            code = ResponseCode.AUTHENTICATION_REQUIRED if status == 401 else None
            raise CyberTiplineError(
                code,
                response.reason_phrase or "HTTP error",
                http_status=status,
                retryable=_is_retryable(status, None),
                request_id=request_id,
                endpoint=endpoint,
            ) from exc
        log.info("CyberTipline %s %s -> HTTP %s code %s (Request-ID %s)", method, endpoint, status, parsed.code, request_id)
        if parsed.code != ResponseCode.SUCCESS or not response.is_success:
            raise CyberTiplineError(
                parsed.code,
                parsed.description or response.reason_phrase,
                http_status=status,
                retryable=_is_retryable(status, parsed.code),
                request_id=request_id,
                endpoint=endpoint,
            )
        return parsed

    @staticmethod
    def _missing(endpoint: str, what: str, parsed: ApiResponse) -> CyberTiplineError:
        return CyberTiplineError(
            parsed.code,
            f"success response without {what}",
            retryable=True,
            request_id=parsed.request_id,
            endpoint=endpoint,
        )

    # --- endpoints ------------------------------------------------------------------------------

    def status(self) -> StatusResult:
        """``GET /status``: can we reach NCMEC and do the credentials work?"""
        parsed = self._call("GET", "/status")
        return StatusResult(parsed.code, parsed.description, parsed.request_id)

    def submit(self, report: Report | bytes) -> int:
        """``POST /submit``: open a report; returns NCMEC's report id.

        A ``Report`` is rendered (and validated) here; raw bytes are checked for well-formedness
        and element order first, so a malformed document fails locally with ``ValueError``.
        """
        body = report_xml(report) if isinstance(report, Report) else _checked_bytes(report, "report")
        parsed = self._call("POST", "/submit", content=body, headers={"Content-Type": "text/xml; charset=utf-8"})
        if parsed.report_id is None:
            raise self._missing("/submit", "reportId", parsed)
        return parsed.report_id

    def upload(self, report_id: int, filename: str, content: bytes) -> str:
        """``POST /upload`` (multipart ``id`` + ``file``); returns NCMEC's file id.

        NCMEC answers with the MD5 of what it received; a mismatch raises a retryable error
        rather than letting a truncated file be reported.
        """
        if not filename:
            raise ValueError("upload needs a file name")
        if not content:
            raise ValueError(f"upload of {filename!r}: the file is empty")
        parsed = self._call(
            "POST",
            "/upload",
            data={"id": str(report_id)},
            files={"file": (filename, content, "application/octet-stream")},
        )
        if parsed.file_id is None:
            raise self._missing("/upload", "fileId", parsed)
        local = hashlib.md5(content, usedforsecurity=False).hexdigest()
        if parsed.hash is not None and parsed.hash.lower() != local:
            raise CyberTiplineError(
                None,
                f"MD5 mismatch for {filename!r}: NCMEC received {parsed.hash}, sent {local}",
                retryable=True,
                request_id=parsed.request_id,
                endpoint="/upload",
            )
        return parsed.file_id

    def fileinfo(self, report_id: int, file_id: str, file_details: FileDetails | bytes) -> None:
        """``POST /fileinfo``: the ``fileDetails`` of one uploaded file.

        With a ``FileDetails`` model, ``report_id``/``file_id`` are filled in from the arguments;
        with raw XML they must match the arguments.
        """
        if isinstance(file_details, FileDetails):
            body = file_details_xml(dataclasses.replace(file_details, report_id=report_id, file_id=file_id))
        else:
            body = _checked_bytes(file_details, "fileDetails")
            root = etree.fromstring(body, _SAFE_PARSER)
            if root.findtext("reportId") != str(report_id) or root.findtext("fileId") != file_id:
                raise ValueError("fileDetails reportId/fileId do not match the arguments")
        self._call("POST", "/fileinfo", content=body, headers={"Content-Type": "text/xml; charset=utf-8"})

    def finish(self, report_id: int) -> FinishResult:
        """``POST /finish``: complete the report; NCMEC lists the files it holds for it."""
        parsed = self._call("POST", "/finish", data={"id": str(report_id)})
        return FinishResult(report_id=parsed.report_id or report_id, files=parsed.file_ids)

    def retract(self, report_id: int) -> None:
        """``POST /retract``: cancel a report that is not finished."""
        self._call("POST", "/retract", data={"id": str(report_id)})


def _checked_bytes(body: bytes, expected_root: str) -> bytes:
    try:
        root = etree.fromstring(body, _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ReportValidationError(expected_root, f"not well-formed XML ({exc.msg})") from None
    if root.tag != expected_root:
        raise ReportValidationError(expected_root, f"root element is <{root.tag}>")
    problems = check_document(root)
    if problems:
        raise ReportValidationError(expected_root, "; ".join(problems))
    return body
