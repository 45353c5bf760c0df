"""NCMEC CyberTipline reporting: typed report models, the XML builders, the API client and the
filing flow. See ``docs/reporting.md``.

    client = CyberTiplineClient(username=..., password=..., environment="test")
    result = file_report(client, report, [ReportFile(filename=..., content=..., details=...)])
"""

from .case import CaseReport, CaseSummary, build_case_report
from .client import CyberTiplineClient, CyberTiplineError, FinishResult, StatusResult
from .enums import Environment, IncidentType, IndustryClassification, ResponseCode
from .filing import FilingError, ReportFile, file_report, settle_open_report
from .xml import ReportValidationError, file_details_xml, report_xml

__all__ = [
    "CaseReport",
    "CaseSummary",
    "CyberTiplineClient",
    "CyberTiplineError",
    "Environment",
    "FilingError",
    "FinishResult",
    "IncidentType",
    "IndustryClassification",
    "ReportFile",
    "ReportValidationError",
    "ResponseCode",
    "StatusResult",
    "build_case_report",
    "file_details_xml",
    "file_report",
    "report_xml",
    "settle_open_report",
]
