"""Settings, read once from the environment (``SURAKSHA_*``) into one object.

Everything that varies between the embedded demo (SQLite file, in-process worker, local evidence
folder) and production (PostgreSQL, many workers) lives here, so the rest of the code never reads
``os.environ`` itself.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_", extra="ignore")

    home: Path = Field(default=Path("./var"), description="Data folder (SQLite file, indexes, evidence).")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in home.")
    mode: str = Field(default="demo", description="'demo' or 'production'.")

    # Media safety limits, applied before any decoder sees the bytes.
    max_media_bytes: int = 64 * 1024 * 1024
    max_image_pixels: int = 64_000_000
    max_video_seconds: int = 4 * 3600

    default_pdq_threshold: int = 31

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'suraksha.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    def ensure_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.index_dir.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
