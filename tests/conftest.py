"""Shared fixtures: a real store on SQLite and on PostgreSQL, settings and an app client.

Every test that takes `database_url` (or a fixture built on it) runs twice: on a SQLite
file and on the throwaway PostgreSQL cluster that `make test` starts. Both stores are
migrated with the real Alembic chain and hold the bundled places.
"""

from __future__ import annotations

import csv
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from whatworks import migrations
from whatworks.config import Settings
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.places.places import load_bundled
from whatworks.returns import specs
from whatworks.schema import metadata

# Spark in local mode on small test data: one shuffle partition is much faster.
os.environ.setdefault("SPARK_PARTITIONS", "1")
REFERENCE_TABLES = {"region", "local_authority", "statistical_neighbour"}
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _prepare(url: str) -> None:
    migrations.upgrade(url)
    engine = create_db_engine(url)
    with transaction(make_session_factory(engine)) as session:
        load_bundled(session)
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store with the bundled places, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "whatworks.sqlite"
    _prepare(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
    engine.dispose()
    return path


def _postgres_server() -> str:
    server = os.environ.get("WHATWORKS_TEST_POSTGRES_URL")
    if not server:
        if os.environ.get("CI"):
            pytest.fail("WHATWORKS_TEST_POSTGRES_URL is not set: run the tests with `make test`.")
        pytest.skip("no PostgreSQL test cluster: run `make test` to include PostgreSQL")
    return server


@contextmanager
def _postgres_database() -> Iterator[str]:
    """A new database on the test cluster, migrated, with the bundled places; dropped after."""
    server = _postgres_server()
    name = f"whatworks_test_{uuid.uuid4().hex[:8]}"
    admin = create_db_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        _prepare(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The session's PostgreSQL test database (emptied before each test that uses it)."""
    with _postgres_database() as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[str]:
    """A store shared by the tests of one module, for data that is slow to load."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module") / "whatworks.sqlite"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with _postgres_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """The URL of an empty migrated store holding only the bundled places."""
    if request.param == "sqlite":
        path = tmp_path / "whatworks.sqlite"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    tables = [t.name for t in metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test store."""
    engine = create_db_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One session on the test store."""
    with sessions() as one:
        yield one


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings pointing at the test store and a temporary data folder."""
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret-key-not-for-use",
        engine="duckdb",
        secure_cookies=False,
    )


# Small SSDA903 returns written as CSV files with the year's columns.
HEADER_2025 = [
    {"CHILD": "A100", "SEX": "M", "DOB": "01/05/2012", "ETHNIC": "WBRI", "UPN": "A123456789012"},
    {"CHILD": "A200", "SEX": "F", "DOB": "01/01/2010", "ETHNIC": "WBRI", "UPN": "B123456789012"},
    {"CHILD": "A300", "SEX": "M", "DOB": "01/10/2019", "ETHNIC": "MWBC", "UPN": "C123456789012"},
]
EPISODES_2025 = [
    {
        "CHILD": "A100",
        "DECOM": "01/05/2024",
        "RNE": "S",
        "LS": "C2",
        "CIN": "N1",
        "PLACE": "U4",
        "PLACE_PROVIDER": "PR1",
        "DEC": "01/08/2024",
        "REC": "X1",
        "REASON_PLACE_CHANGE": "CARPL",
        "HOME_POST": "N3 1AB",
        "PL_POST": "N3 2CD",
    },
    {
        "CHILD": "A100",
        "DECOM": "01/08/2024",
        "RNE": "P",
        "LS": "C2",
        "CIN": "N1",
        "PLACE": "U4",
        "PLACE_PROVIDER": "PR1",
        "HOME_POST": "N3 1AB",
        "PL_POST": "N3 3EF",
    },
    {
        "CHILD": "A200",
        "DECOM": "01/01/2022",
        "RNE": "S",
        "LS": "C2",
        "CIN": "N2",
        "PLACE": "U1",
        "PLACE_PROVIDER": "PR1",
        "HOME_POST": "N3 1AB",
        "PL_POST": "N3 2CD",
    },
    {
        "CHILD": "A300",
        "DECOM": "01/10/2024",
        "RNE": "S",
        "LS": "C2",
        "CIN": "N1",
        "PLACE": "U1",
        "PLACE_PROVIDER": "PR1",
        "DEC": "15/01/2025",
        "REC": "E4A",
        "HOME_POST": "N3 1AB",
        "PL_POST": "N3 2CD",
    },
]


def write_table(folder: Path, year: int, name: str, rows: list[dict[str, str]]) -> Path:
    """One table as the council would export it: every column of the year, in order."""
    columns = [c.name for c in specs.tables(year)[name]]
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_return(folder: Path, year: int = 2025, **tables: list[dict[str, str]]) -> Path:
    """A folder with the header and episodes above (or the tables given)."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = tables or {"header": HEADER_2025, "episodes": EPISODES_2025}
    for name, rows in chosen.items():
        write_table(folder, year, name, rows)
    return folder


@pytest.fixture
def return_files() -> SimpleNamespace:
    """`.write(folder, year=2025, **tables)` writes a return's CSV files into a folder;
    `.header` and `.episodes` are the rows it writes by default."""
    return SimpleNamespace(write=write_return, header=HEADER_2025, episodes=EPISODES_2025)
