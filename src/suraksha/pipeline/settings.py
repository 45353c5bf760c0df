"""The pipeline's section of the one settings object (``suraksha.settings.PipelineSettings``, env ``SURAKSHA_*``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from suraksha.settings import PipelineSettings, get_settings, reset_settings

if TYPE_CHECKING:  # pragma: no cover - signals is imported when a budget is made, not at start-up
    from suraksha.signals.budget import ScanBudget

__all__ = ["PipelineSettings", "get_pipeline_settings", "new_scan_budget", "reset_pipeline_settings"]


def new_scan_budget(settings: PipelineSettings | None = None) -> ScanBudget:
    """A fresh scan budget for one item (its clock starts now), from the settings."""
    from suraksha.signals.budget import ScanBudget

    s = settings or get_pipeline_settings()
    return ScanBudget(s.scan_budget_seconds, s.scan_budget_pixel_frames, max_frame_pixels=s.max_video_frame_pixels)


def get_pipeline_settings() -> PipelineSettings:
    return get_settings().pipeline


def reset_pipeline_settings() -> None:
    """Forget the cached settings (all sections: there is one object)."""
    reset_settings()
