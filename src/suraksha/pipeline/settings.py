"""Pipeline settings (env ``SURAKSHA_*``), next to the shared ``suraksha.config.Settings``.

Kept in the pipeline package so this area can add knobs without editing the shared settings
module that every area imports; the same ``SURAKSHA_`` prefix and the same environment apply.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:  # pragma: no cover - signals is imported when a budget is made, not at start-up
    from suraksha.signals.budget import ScanBudget


class PipelineSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_", extra="ignore")

    # Media by URL.
    fetch_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts media may be fetched from ('cdn.example.com', '*.example.com'). Empty: any "
        "public host. A listed host may also resolve to a private address (your own CDN).",
    )
    fetch_timeout_seconds: float = 10.0
    fetch_max_redirects: int = 3

    # Ingest limits (the API returns 4xx with the reason when one is exceeded).
    max_media_per_item: int = 20
    max_links_per_item: int = 200
    max_text_chars: int = 100_000

    # Workers.
    lease_seconds: int = 60
    max_scan_attempts: int = 5
    worker_batch: int = 8
    # After a batch smaller than worker_batch, wait this long before claiming again, so items
    # arriving one by one are scanned a few at a time (each batch costs three statements however
    # small it is) instead of every worker waking for every item. An idle worker still starts on
    # new work at once; 0 turns it off.
    worker_linger_ms: float = Field(default=5.0, ge=0, le=1000)

    # Text rules applied to item text besides the matcher's `text` banks (keywords, regexes).
    text_keywords: list[str] = Field(default_factory=list)
    text_regexes: list[str] = Field(default_factory=list)

    # Scan budget: what decoding the media of one item (all of it together) may cost, in the
    # workers and in the API's hashing; over it, that media gets an error with the reason and the
    # scan goes on (signals.budget). The defaults equal signals.budget's (a test keeps them equal):
    # about 60 s of one core of the reference VM; 1080p30 video up to ~7 minutes, 720p ~16, 4K ~1.7.
    scan_budget_seconds: float = Field(
        default=60.0, gt=0, description="Wall-clock seconds of decoding the media of one item may take.")
    scan_budget_pixel_frames: int = Field(
        default=40_000_000_000, gt=0,
        description="Pixels one item's media may decode (each frame's pixels; a frame hashed at full "
        "size counts 17 times). A video whose header announces more is refused before decoding.")
    max_video_frame_pixels: int = Field(
        default=4096 * 2304, gt=0,
        description="Largest video frame decoded at all (pixels); also bounds the one decode and hash "
        "the deadline cannot interrupt (at 4096x2304: 0.2-1 s, ~440 MB peak for the process).")

    # Decode-time downscaling for PDQ while scanning (SURAKSHA_PDQ_FAST_DECODE=false: bit-exact).
    pdq_fast_decode: bool = True

    # Classifiers, by name ("nudenet", "http"); off by default (NudeNet is slow to load).
    classifiers: list[str] = Field(default_factory=list)

    # Policy file (YAML); empty: the shipped default policy.
    policy_path: str | None = None


def new_scan_budget(settings: PipelineSettings | None = None) -> ScanBudget:
    """A fresh scan budget for one item (its clock starts now), from the settings."""
    from suraksha.signals.budget import ScanBudget

    s = settings or get_pipeline_settings()
    return ScanBudget(s.scan_budget_seconds, s.scan_budget_pixel_frames, max_frame_pixels=s.max_video_frame_pixels)


@lru_cache(maxsize=1)
def get_pipeline_settings() -> PipelineSettings:
    return PipelineSettings()


def reset_pipeline_settings() -> None:
    get_pipeline_settings.cache_clear()
