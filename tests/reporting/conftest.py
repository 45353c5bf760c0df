from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suraksha.reporting.ncmec.client import CyberTiplineClient
from suraksha.reporting.ncmec.enums import IncidentType
from suraksha.reporting.ncmec.models import ContactPerson, Email, IncidentSummary, Report, Reporter

from .ncmec_simulator import NcmecSimulator


@pytest.fixture
def sim() -> NcmecSimulator:
    return NcmecSimulator()


@pytest.fixture
def client(sim: NcmecSimulator):
    with CyberTiplineClient(username=sim.username, password=sim.password, transport=sim.transport()) as c:
        yield c


@pytest.fixture
def minimal_report() -> Report:
    return Report(
        incident_summary=IncidentSummary(
            incident_type=IncidentType.CHILD_PORNOGRAPHY,
            incident_date_time=datetime(2026, 11, 20, 8, 30, tzinfo=UTC),
        ),
        reporter=Reporter(
            reporting_person=ContactPerson(first_name="Asha", last_name="Rao", email=[Email(email="tns@platform.example")])
        ),
    )
