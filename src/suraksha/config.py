"""Settings, read once from the environment (``SURAKSHA_*``) into one object.

Everything that varies between the embedded demo (SQLite file, in-process worker, local evidence
folder) and production (PostgreSQL, many workers) lives here, so the rest of the code never reads
``os.environ`` itself.
"""

from __future__ import annotations

import logging
import os
import stat
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

    @property
    def home_is_set(self) -> bool:
        """Whether SURAKSHA_HOME was given (else ``./var`` of the current folder is used): a command
        run from another folder must not quietly start a new, empty installation there."""
        return "home" in self.model_fields_set

    @property
    def embedded_database(self) -> bool:
        """The default SQLite file in the home folder (no SURAKSHA_DATABASE_URL)."""
        return not self.database_url

    def ensure_home(self) -> None:
        """Create the home folder and its index folder, readable by this user only (0700): the home
        holds the SQLite database with pending media, keys and evidence. An existing folder that
        others may read is tightened, with a warning."""
        make_private(self.home, folder=True)
        make_private(self.index_dir, folder=True)


log = logging.getLogger(__name__)


def make_private(path: Path, *, folder: bool) -> None:
    """Create ``path`` (a folder, 0700, or an empty file, 0600) unless it exists; an existing one
    whose group or other permission bits are set loses them, with a warning naming the change.

    Created with the mode in the same system call (never a window in which another user could open
    it), whatever the process umask. A path this user does not own is left as it is, with a warning.
    """
    try:
        if folder:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=0o700)
        else:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    tighten(path)


def tighten(path: Path) -> None:
    """Drop the group and other permission bits of an existing file or folder (warn when it had any)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & 0o077:
        return
    try:
        os.chmod(path, mode & ~0o077)
    except OSError as exc:
        log.warning("%s is readable by other users (mode %04o) and could not be tightened: %s", path, mode,
                    exc.strerror or exc)
        return
    log.warning("tightened the permissions of %s from %04o to %04o (it holds the database, pending media, keys "
                "or evidence)", path, mode, mode & ~0o077)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
