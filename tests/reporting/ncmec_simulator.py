"""A local stand-in for NCMEC's CyberTipline Reporting API, for tests.

Plug it into the client with ``transport=sim.transport()`` (an ``httpx.MockTransport``): no
network. It keeps the state NCMEC keeps (open / finished / retracted reports and their files)
and refuses what NCMEC refuses:

* HTTP Basic credentials (401, code 2000 AuthenticationRequired);
* ``/submit`` first: ``/upload``, ``/fileinfo``, ``/finish`` and ``/retract`` must name an
  existing report (5001), one that is still open (5102 finished, 5101 retracted);
* ``/fileinfo`` must name a file uploaded to that report (5002);
* ``/finish`` once (a second finish gets 5102);
* submitted XML must be well formed (4110) and valid against NCMEC's published schema
  (4100): ``cyber_tipline.xsd`` from the reference data (``$SURAKSHA_REFERENCE_DIR/ncmec``),
  never the product's own enums or order tables, so a value the product invented or misspelt is
  refused here as NCMEC would refuse it. Without the XSD the simulator refuses to start and says
  where it looked.

Validation errors answer HTTP 400 and state errors answer HTTP 200 with a non-zero code, so both
ways a client can be told "no" are exercised. ``fail()`` injects faults: an HTTP 5xx with
NCMEC's server-error body, a non-XML 502 from a "proxy", a timeout before the request is
handled, or a response lost *after* the request was handled (the ambiguous case).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Literal
from urllib.parse import parse_qs

import httpx
from lxml import etree

from suraksha.reporting.ncmec.enums import ResponseCode
from suraksha.reporting.ncmec.xsd import load_schema, schema_errors

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)

FaultKind = Literal["http_error", "proxy_error", "timeout", "lost_response", "code"]


@dataclass
class SimFile:
    file_id: str
    filename: str
    content: bytes
    md5: str
    details: bytes | None = None


@dataclass
class SimReport:
    report_id: int
    xml: bytes
    state: str = "open"  # open | finished | retracted
    files: dict[str, SimFile] = field(default_factory=dict)


@dataclass
class Call:
    method: str
    endpoint: str
    http_status: int | None  # None: no response (timeout)
    code: int | None


@dataclass
class Fault:
    endpoint: str
    kind: FaultKind
    times: int
    skip: int
    status: int
    code: int


class NcmecSimulator:
    def __init__(self, username: str = "esp-test-user", password: str = "esp-test-password", xsd_path=None) -> None:
        self.schema = load_schema(xsd_path)  # SchemaMissing (with the path looked at) when absent
        self.username = username
        self.password = password
        self.reports: dict[int, SimReport] = {}
        self.calls: list[Call] = []
        self._faults: list[Fault] = []
        self._report_ids = itertools.count(90001)

    # --- test controls ---------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fail(
        self,
        endpoint: str,
        kind: FaultKind = "http_error",
        *,
        times: int = 1,
        skip: int = 0,
        status: int = 503,
        code: int = ResponseCode.SERVER_ERROR,
    ) -> None:
        """Make the next ``times`` calls to ``endpoint`` fail, after letting ``skip`` through."""
        self._faults.append(Fault(endpoint, kind, times, skip, status, code))

    def endpoints_called(self) -> list[str]:
        return [c.endpoint for c in self.calls]

    def report(self, report_id: int) -> SimReport:
        return self.reports[report_id]

    # --- dispatch --------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        endpoint = "/" + path.rstrip("/").rsplit("/", 1)[-1]
        if not path.startswith("/ispws/"):
            return self._respond(request, endpoint, 404, ResponseCode.RESOURCE_NOT_FOUND, "no such endpoint")
        fault = self._take_fault(endpoint)
        if fault is not None and fault.kind != "lost_response":
            return self._inject(request, endpoint, fault)
        if not self._authorised(request):
            return self._respond(request, endpoint, 401, ResponseCode.AUTHENTICATION_REQUIRED, "Authentication required")
        routes = {
            ("GET", "/status"): self._status,
            ("POST", "/submit"): self._submit,
            ("POST", "/upload"): self._upload,
            ("POST", "/fileinfo"): self._fileinfo,
            ("POST", "/finish"): self._finish,
            ("POST", "/retract"): self._retract,
        }
        route = routes.get((request.method, endpoint))
        if route is None:
            return self._respond(request, endpoint, 404, ResponseCode.RESOURCE_NOT_FOUND, "no such endpoint")
        response = route(request, endpoint)
        if fault is not None:  # handled, but the answer never reaches the client
            self.calls[-1] = Call(request.method, endpoint, None, None)
            raise httpx.ReadTimeout("simulated lost response", request=request)
        return response

    def _take_fault(self, endpoint: str) -> Fault | None:
        for fault in self._faults:
            if fault.endpoint != endpoint or fault.times <= 0:
                continue
            if fault.skip > 0:
                fault.skip -= 1
                return None
            fault.times -= 1
            return fault
        return None

    def _inject(self, request: httpx.Request, endpoint: str, fault: Fault) -> httpx.Response:
        if fault.kind == "timeout":
            self.calls.append(Call(request.method, endpoint, None, None))
            raise httpx.ConnectTimeout("simulated timeout", request=request)
        if fault.kind == "proxy_error":
            self.calls.append(Call(request.method, endpoint, 502, None))
            return httpx.Response(502, content=b"<html>Bad Gateway</html>", headers={"Content-Type": "text/html"})
        status = fault.status if fault.kind == "http_error" else 200
        return self._respond(request, endpoint, status, fault.code, "Simulated failure")

    def _authorised(self, request: httpx.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except ValueError:
            return False
        return user == self.username and password == self.password

    # --- responses -------------------------------------------------------------------------------

    def _respond(
        self,
        request: httpx.Request,
        endpoint: str,
        status: int,
        code: int,
        description: str,
        *,
        root: str = "reportResponse",
        **fields: object,
    ) -> httpx.Response:
        el = etree.Element(root)
        etree.SubElement(el, "responseCode").text = str(int(code))
        if root == "reportResponse":
            etree.SubElement(el, "responseDescription").text = description
        for name, value in fields.items():
            if value is None:
                continue
            if name == "files":
                files = etree.SubElement(el, "files")
                for file_id in value:  # type: ignore[attr-defined]
                    etree.SubElement(files, "fileId").text = file_id
            else:
                etree.SubElement(el, name).text = str(value)
        body = etree.tostring(el, xml_declaration=True, encoding="UTF-8", standalone=True)
        self.calls.append(Call(request.method, endpoint, status, int(code)))
        return httpx.Response(
            status,
            content=body,
            headers={"Content-Type": "application/xml", "Request-ID": uuid.uuid4().hex},
        )

    def _ok(self, request, endpoint, **fields) -> httpx.Response:
        return self._respond(request, endpoint, 200, ResponseCode.SUCCESS, "Success", **fields)

    def _refuse(self, request, endpoint, code: ResponseCode, description: str, **fields) -> httpx.Response:
        status = 400 if 4000 <= code < 5000 else 200
        return self._respond(request, endpoint, status, code, description, **fields)

    # --- state helpers ---------------------------------------------------------------------------

    def _open_report(self, request, endpoint, raw_id: str | None) -> SimReport | httpx.Response:
        try:
            report = self.reports.get(int(raw_id or ""))
        except ValueError:
            return self._refuse(request, endpoint, ResponseCode.INVALID_REQUEST, f"bad report id {raw_id!r}")
        if report is None:
            return self._refuse(request, endpoint, ResponseCode.REPORT_DOES_NOT_EXIST, "Report does not exist")
        if report.state == "finished":
            return self._refuse(
                request, endpoint, ResponseCode.REPORT_ALREADY_FINISHED, "Report already finished", reportId=report.report_id
            )
        if report.state == "retracted":
            return self._refuse(
                request, endpoint, ResponseCode.REPORT_ALREADY_RETRACTED, "Report already retracted", reportId=report.report_id
            )
        return report

    def _xml_body(self, request, endpoint, root_tag: str) -> etree._Element | httpx.Response:
        content_type = request.headers.get("Content-Type", "")
        if "xml" not in content_type:
            return self._refuse(request, endpoint, ResponseCode.INVALID_REQUEST, "Content-Type must be XML")
        try:
            root = etree.fromstring(request.content, _PARSER)
        except etree.XMLSyntaxError as exc:
            return self._refuse(request, endpoint, ResponseCode.MALFORMED_XML_SUBMITTAL, f"Malformed XML: {exc.msg}")
        if root.tag != root_tag:
            return self._refuse(request, endpoint, ResponseCode.VALIDATION_FAILED, f"root must be <{root_tag}>")
        problems = schema_errors(root, self.schema)
        if problems:
            return self._refuse(request, endpoint, ResponseCode.VALIDATION_FAILED, "; ".join(problems))
        return root

    # --- endpoints -------------------------------------------------------------------------------

    def _status(self, request, endpoint):
        description = f"Remote User : {self.username}, Remote Ip : 127.0.0.1"
        return self._respond(request, endpoint, 200, ResponseCode.SUCCESS, description)

    def _submit(self, request, endpoint):
        root = self._xml_body(request, endpoint, "report")
        if isinstance(root, httpx.Response):
            return root
        if not (root.findtext("incidentSummary/incidentDateTime") or "").endswith("Z"):
            return self._refuse(request, endpoint, ResponseCode.VALIDATION_FAILED, "incidentDateTime must be UTC")
        report_id = next(self._report_ids)
        self.reports[report_id] = SimReport(report_id=report_id, xml=request.content)
        return self._ok(request, endpoint, reportId=report_id)

    def _upload(self, request, endpoint):
        content_type = request.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return self._refuse(request, endpoint, ResponseCode.INVALID_REQUEST, "upload must be multipart/form-data")
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + request.content)
        fields: dict[str, str] = {}
        upload: tuple[str, bytes] | None = None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None and name == "file":
                upload = (part.get_filename(), payload)
            elif name:
                fields[name] = payload.decode("utf-8")
        report = self._open_report(request, endpoint, fields.get("id"))
        if isinstance(report, httpx.Response):
            return report
        if upload is None or not upload[1]:
            return self._refuse(request, endpoint, ResponseCode.MALFORMED_FILE_SUBMITTAL, "no file in upload")
        file_id = uuid.uuid4().hex
        md5 = hashlib.md5(upload[1], usedforsecurity=False).hexdigest()
        report.files[file_id] = SimFile(file_id, upload[0], upload[1], md5)
        return self._ok(request, endpoint, reportId=report.report_id, fileId=file_id, hash=md5)

    def _fileinfo(self, request, endpoint):
        root = self._xml_body(request, endpoint, "fileDetails")
        if isinstance(root, httpx.Response):
            return root
        report = self._open_report(request, endpoint, root.findtext("reportId"))
        if isinstance(report, httpx.Response):
            return report
        sim_file = report.files.get(root.findtext("fileId") or "")
        if sim_file is None:
            return self._refuse(
                request, endpoint, ResponseCode.FILE_DOES_NOT_EXIST, "File does not exist", reportId=report.report_id
            )
        relevance = root.findtext("fileRelevance")
        if root.find("industryClassification") is not None and relevance not in (None, "Reported"):
            return self._refuse(
                request, endpoint, ResponseCode.VALIDATION_FAILED, "industryClassification only allowed on Reported files"
            )
        sim_file.details = request.content
        return self._ok(request, endpoint, reportId=report.report_id)

    def _form_id(self, request) -> str | None:
        values = parse_qs(request.content.decode("utf-8")).get("id")
        return values[0] if values else None

    def _finish(self, request, endpoint):
        report = self._open_report(request, endpoint, self._form_id(request))
        if isinstance(report, httpx.Response):
            return report
        report.state = "finished"
        return self._respond(
            request,
            endpoint,
            200,
            ResponseCode.SUCCESS,
            "Success",
            root="reportDoneResponse",
            reportId=report.report_id,
            files=list(report.files),
        )

    def _retract(self, request, endpoint):
        report = self._open_report(request, endpoint, self._form_id(request))
        if isinstance(report, httpx.Response):
            return report
        report.state = "retracted"
        return self._ok(request, endpoint, reportId=report.report_id)
