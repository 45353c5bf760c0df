"""Jurisdiction profiles: the packaged data loads, carries citations, and computes deadlines."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from suraksha.jurisdictions import (
    KNOWN_CODES,
    ProfileError,
    all_profiles,
    deadline,
    load_profile,
    parse_profile,
    rank_satisfies,
    required_rank,
    retention_for,
)

IST = ZoneInfo("Asia/Kolkata")
UTC = dt.UTC


def test_every_profile_loads_and_every_value_has_a_citation():
    profiles = all_profiles()
    assert [p.code for p in profiles] == list(KNOWN_CODES)
    for p in profiles:
        cited = [*p.deadlines.values(), *p.retention.values(), *p.ranks.values(), *p.reports, *p.obligations]
        assert cited, p.code
        for value in cited:
            assert len(value.citation) > 10, (p.code, value)
            assert value.verified in {"official", "secondary", "unverified"}


def test_india_values_from_the_it_rules():
    india = load_profile("in")
    hours = {name: d.period / dt.timedelta(hours=1) for name, d in india.deadlines.items()}
    assert hours["takedown_order"] == 3
    assert hours["ncii_complaint"] == 2
    assert hours["removal_request"] == 36
    assert hours["data_request"] == 72
    assert hours["grievance_acknowledgement"] == 24
    assert hours["grievance_resolution"] == 7 * 24
    assert "3(1)(d)" in india.deadlines["takedown_order"].citation
    assert "3(2)(b)" in india.deadlines["ncii_complaint"].legal_basis
    assert "3(1)(j)" in india.deadlines["data_request"].citation
    assert india.retention["evidence"].days == 180 and "3(1)(g)" in india.retention["evidence"].citation
    destinations = {r.destination for r in india.reports}
    assert {"national_cybercrime_portal", "sjpu_or_local_police"} <= destinations
    assert any("rule 11" in r.citation for r in india.reports)
    assert {o.citation for o in india.obligations} >= {"IT Rules 2021 Rule 4(4)", "IT Rules 2021 Rule 4(1)(d)"}


def test_us_and_uk_destinations():
    us = load_profile("us")
    assert us.retention["evidence"].days == 365 and "2258A(h)" in us.retention["evidence"].citation
    assert [r.destination for r in us.reports] == ["ncmec_cybertipline"]
    assert "as soon as reasonably possible" in us.deadlines["csam_report"].citation
    assert not us.deadlines["csam_report"].statutory  # the law sets no hours; 24 h is our target
    assert [r.destination for r in load_profile("uk").reports] == ["nca"]
    assert load_profile("GB").code == "uk"


def test_unknown_code_and_bad_yaml_give_clear_errors():
    with pytest.raises(ProfileError, match="unknown jurisdiction 'fr'"):
        load_profile("fr")
    with pytest.raises(ProfileError, match="not valid YAML"):
        parse_profile("code: in\n  name: [unclosed", source="broken.yaml")
    with pytest.raises(ProfileError, match="broken.yaml: invalid profile: .*deadlines.x.citation"):
        parse_profile(
            "code: xx\nname: X\ntimezone: UTC\n"
            "deadlines: {x: {title: t, hours: 1, statutory: true, legal_basis: law}}\n"
            "retention: {evidence: {days: 1, citation: 'some citation'}}\n",
            source="broken.yaml",
        )
    with pytest.raises(ProfileError, match="unknown time zone"):
        parse_profile(
            "code: xx\nname: X\ntimezone: Mars/Olympus\ndeadlines: {}\n"
            "retention: {evidence: {days: 1, citation: 'some citation'}}\n"
        )
    with pytest.raises(ProfileError, match="no deadline for request type 'teleport'"):
        deadline("in", "teleport", dt.datetime.now(UTC))


def test_retention_is_the_longest_that_applies():
    assert retention_for(["in"]) == dt.timedelta(days=180)
    assert retention_for(["us"]) == dt.timedelta(days=365)
    assert retention_for(["in", "us"]) == dt.timedelta(days=365)
    assert retention_for(["us", "in"]) == dt.timedelta(days=365)
    with pytest.raises(ProfileError):
        retention_for([])
    with pytest.raises(ProfileError, match="unknown jurisdiction"):
        retention_for(["in", "zz"])


def test_takedown_arriving_near_midnight_ist_is_due_next_day():
    received = dt.datetime(2026, 3, 31, 22, 30, tzinfo=IST)
    due = deadline("in", "takedown_order", received)
    assert due == dt.datetime(2026, 4, 1, 1, 30, tzinfo=IST)
    assert due.utcoffset() == dt.timedelta(hours=5, minutes=30)  # shown in IST
    assert due.astimezone(UTC) == dt.datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    # The same instant given in UTC gives the same deadline.
    assert deadline("in", "takedown_order", received.astimezone(UTC)) == due
    # Intimate imagery complaint received 23:59 IST: 01:59 the next day.
    assert deadline("in", "ncii_complaint", dt.datetime(2026, 3, 31, 23, 59, tzinfo=IST)) == dt.datetime(
        2026, 4, 1, 1, 59, tzinfo=IST
    )
    # 18:45 UTC is 00:15 IST on the next calendar day: the 36-hour clock ends 12:15 IST the day after.
    got = deadline("in", "removal_request", dt.datetime(2026, 3, 31, 18, 45, tzinfo=UTC))
    assert got == dt.datetime(2026, 4, 2, 12, 15, tzinfo=IST)


def test_deadline_per_request_type_india():
    received = dt.datetime(2026, 5, 10, 9, 0, tzinfo=IST)
    expected = {
        "takedown_order": dt.datetime(2026, 5, 10, 12, 0, tzinfo=IST),
        "ncii_complaint": dt.datetime(2026, 5, 10, 11, 0, tzinfo=IST),
        "removal_request": dt.datetime(2026, 5, 11, 21, 0, tzinfo=IST),
        "data_request": dt.datetime(2026, 5, 13, 9, 0, tzinfo=IST),
        "grievance_acknowledgement": dt.datetime(2026, 5, 11, 9, 0, tzinfo=IST),
        "grievance_resolution": dt.datetime(2026, 5, 17, 9, 0, tzinfo=IST),
    }
    for request_type, due in expected.items():
        assert deadline("in", request_type, received) == due, request_type


def test_order_with_its_own_stricter_deadline_wins_but_cannot_extend_the_law():
    received = dt.datetime(2026, 3, 31, 22, 30, tzinfo=IST)
    stricter = dt.datetime(2026, 3, 31, 23, 30, tzinfo=IST)
    assert deadline("in", "takedown_order", received, stricter) == stricter
    laxer = dt.datetime(2026, 4, 2, 10, 0, tzinfo=IST)
    assert deadline("in", "takedown_order", received, laxer) == dt.datetime(2026, 4, 1, 1, 30, tzinfo=IST)
    # Where the law leaves the time to the order (BNSS s.94), the order's date governs, even later.
    assert deadline("in", "production_order", received, laxer) == laxer
    # An order deadline in another zone is compared as an instant and returned in IST.
    in_utc = dt.datetime(2026, 3, 31, 17, 30, tzinfo=UTC)  # 23:00 IST
    got = deadline("in", "takedown_order", received, in_utc)
    assert got == in_utc and got.tzinfo == IST


def test_naive_and_impossible_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline("in", "takedown_order", dt.datetime(2026, 3, 31, 22, 30))
    received = dt.datetime(2026, 3, 31, 22, 30, tzinfo=IST)
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline("in", "takedown_order", received, dt.datetime(2026, 4, 1, 0, 0))
    with pytest.raises(ValueError, match="before the request was received"):
        deadline("in", "takedown_order", received, received - dt.timedelta(hours=1))


def test_uk_deadline_across_the_clock_change_is_elapsed_time():
    london = ZoneInfo("Europe/London")
    received = dt.datetime(2026, 3, 28, 12, 0, tzinfo=london)  # clocks go forward on 29 March
    due = deadline("uk", "csam_report", received)
    assert due.astimezone(UTC) - received.astimezone(UTC) == dt.timedelta(hours=24)
    assert (due.hour, due.day) == (13, 29)  # 24 real hours later reads 13:00 on the wall clock


def test_rule_3_1_d_rank():
    req = required_rank("in", "takedown_order")
    assert req is not None
    assert req.minimum == {"government": "joint_secretary", "police": "deputy_inspector_general"}
    assert "Joint Secretary" in req.citation
    assert rank_satisfies("in", "takedown_order", "police", "Deputy Inspector General")
    assert rank_satisfies("in", "takedown_order", "police", "director_general")
    assert not rank_satisfies("in", "takedown_order", "police", "superintendent")
    assert not rank_satisfies("in", "takedown_order", "police", "inspector")
    assert rank_satisfies("in", "takedown_order", "government", "joint secretary")
    assert not rank_satisfies("in", "takedown_order", "government", "director")
    assert rank_satisfies("in", "takedown_order", "government", "director", exception_applies=True)
    assert not rank_satisfies("in", "takedown_order", "government", "under_secretary", exception_applies=True)
    assert rank_satisfies("in", "takedown_order", "court", None)
    assert not rank_satisfies("in", "takedown_order", "police", None)
    with pytest.raises(ProfileError, match="unknown police rank 'captain'"):
        rank_satisfies("in", "takedown_order", "police", "captain")
    # Request types without a rank rule accept any sender.
    assert required_rank("in", "data_request") is None
    assert rank_satisfies("in", "data_request", "police", "sub_inspector")
