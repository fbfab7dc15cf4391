"""Settings read from the environment, with embedded defaults under one data folder."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from whatworks.core.errors import ConfigurationError

ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class Settings:
    """Where whatworks keeps its stores and which engines it uses."""

    data_dir: Path
    database_url: str
    secret_key: str
    engine: str
    secure_cookies: bool

    @property
    def analytics_dir(self) -> Path:
        """Folder of the analytics store (Parquet files queried with DuckDB or Spark)."""
        return self.data_dir / "analytics"


def _secret_key(data_dir: Path) -> str:
    """The key that signs sessions: from the environment, else kept in the data folder (0600)."""
    from_env = os.environ.get("WHATWORKS_SECRET_KEY")
    if from_env:
        return from_env
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def load_settings() -> Settings:
    """Read `WHATWORKS_*` variables; create the data folder and secret key on first use."""
    data_dir = Path(os.environ.get("WHATWORKS_DATA_DIR", "./whatworks-data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("WHATWORKS_DATABASE_URL") or (
        f"sqlite:///{data_dir / 'whatworks.sqlite'}"
    )
    engine = os.environ.get("WHATWORKS_ENGINE", "duckdb").strip().lower()
    if engine not in ENGINES:
        raise ConfigurationError(
            f"WHATWORKS_ENGINE is {engine!r}; it must be one of {', '.join(ENGINES)}. "
            "Unset it to use DuckDB."
        )
    secure = os.environ.get("WHATWORKS_SECURE_COOKIES", "").lower() in ("1", "true", "yes")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=_secret_key(data_dir),
        engine=engine,
        secure_cookies=secure,
    )
