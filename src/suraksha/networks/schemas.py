"""The JSON shape of a network (``GET /v1/accounts/{id}/network``), as ``Network.to_dict()`` writes it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class NetworkMemberOut(BaseModel):
    account_id: int
    platform_account_id: str
    handle: str | None
    first_activity: str | None = Field(description="ISO 8601 time of the member's first item.")
    last_activity: str | None
    items: int
    matched_items: int = Field(description="Items with a bank match.")
    flagged_items: int = Field(description="Items the policy sent to review or removed.")
    suspended: bool = Field(description="A suspension is on record (requested or delivered) and not restored since.")
    suspension_status: str | None
    linked_by: list[str] = Field(description="'<kind> <value>' of each link the member is part of.")


class NetworkLinkOut(BaseModel):
    kind: str = Field(description="media | link | ip | device")
    value: str = Field(description="entry:<bank entry id> (a picture), a canonical URL, domain:<host>, an IP, a device id.")
    detail: str = Field(description="Why it counts (bank, flagged items, time window).")
    accounts: list[int]
    account_count: int
    item_count: int
    examples: list[int] = Field(description="Up to five item ids that carry it.")


class KindSummaryOut(BaseModel):
    links: int
    examples: list[str]


class NetworkOut(BaseModel):
    account_id: int | None
    size: int
    truncated: bool = Field(description="More accounts are linked than max_accounts; members lists the first found.")
    accounts_total: int | None = Field(
        description="Every account of the group (members may list fewer when truncated); "
        "null when a walk stopped at max_accounts before counting them all."
    )
    max_accounts: int
    window_hours: int
    first_activity: str | None
    last_activity: str | None
    linked_by: dict[str, KindSummaryOut]
    members: list[NetworkMemberOut]
    links: list[NetworkLinkOut]


class GroupPageOut(BaseModel):
    total: int = Field(description="Groups with at least min_size accounts, in all.")
    offset: int
    limit: int
    min_size: int
    groups: list[NetworkOut] = Field(description="Largest first, then the earliest active.")
