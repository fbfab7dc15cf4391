"""Settings come from the environment, with defaults under the data folder."""

from __future__ import annotations

import stat

import pytest

from whatworks.config import load_settings
from whatworks.core.errors import ConfigurationError


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path):
    for name in ("WHATWORKS_DATABASE_URL", "WHATWORKS_SECRET_KEY", "WHATWORKS_ENGINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WHATWORKS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_defaults_live_in_the_data_folder(clean_env) -> None:
    settings = load_settings()
    assert settings.data_dir == clean_env.resolve()
    assert settings.database_url == f"sqlite:///{clean_env.resolve() / 'whatworks.sqlite'}"
    assert settings.engine == "duckdb"


def test_secret_key_is_generated_once_with_private_permissions(clean_env) -> None:
    first = load_settings().secret_key
    key_file = clean_env / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 40
    assert load_settings().secret_key == first


def test_environment_overrides(clean_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATWORKS_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("WHATWORKS_DATABASE_URL", "postgresql://db.example/whatworks")
    monkeypatch.setenv("WHATWORKS_ENGINE", "Spark")
    settings = load_settings()
    assert settings.secret_key == "from-the-environment"
    assert settings.database_url == "postgresql://db.example/whatworks"
    assert settings.engine == "spark"
    assert not (clean_env / "secret_key").exists()


def test_unknown_engine_is_a_clear_error(clean_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATWORKS_ENGINE", "oracle")
    with pytest.raises(ConfigurationError, match="must be one of duckdb, spark"):
        load_settings()
