"""The store keeps each council's years stitched into one history, and never measures from a
history that does not match the years on disk."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pyarrow.parquet as pq

from whatworks.returns import canonical, measures
from whatworks.returns.measures import Period
from whatworks.returns.store import ReturnsStore


def _worked() -> ModuleType:
    path = Path(__file__).with_name("test_measures.py")
    spec = importlib.util.spec_from_file_location("returns_worked_council_for_store", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worked = _worked()


def test_each_write_stitches_the_councils_history(tmp_path: Path) -> None:
    store: ReturnsStore = worked.write_council(tmp_path)
    history = tmp_path / worked.LA / "history"
    assert store.history_current(worked.LA)
    assert sorted(p.stem for p in history.glob("*.parquet")) == sorted(canonical.TABLES)
    episodes = pq.read_table(history / "episodes.parquet").to_pylist()
    # c8 was open at 31 March 2024 and is absent from the 2025 return: its 2024 row is kept,
    # ended on 1 April 2024, the first day of the newer return's year
    c8 = [row for row in episodes if row["child"] == "c8"]
    assert [(row["dec"], row["return_year"]) for row in c8] == [(worked.D(2024, 4, 1), 2024)]
    first = worked.D(2022, 1, 1)
    # c3's episode, open in 2024, is repeated by 2025 with its end: one row, from 2025
    c3 = [row for row in episodes if (row["child"], row["decom"]) == ("c3", first)]
    assert [row["return_year"] for row in c3] == [2025]
    # the history has the canonical schema, so Spark and DuckDB read it as the years
    schema = canonical.schemas()["episodes"]
    assert pq.read_schema(history / "episodes.parquet").names == schema.names


def test_a_history_out_of_step_with_the_years_is_rebuilt_before_it_is_read(
    tmp_path: Path,
) -> None:
    store: ReturnsStore = worked.write_council(tmp_path)
    before = measures.compute(store, [worked.LA], Period.year(2025), "duckdb")
    assert {r.measure.id: r.numerator for r in before}["cla_count"] == 5
    # A write cut off between moving the year into place and restitching the history:
    # the 2025 year replaced by one without episodes, the old history left behind.
    year = tmp_path / worked.LA / "2025"
    pq.write_table(canonical.empty("episodes"), year / "episodes.parquet")
    manifest = json.loads((year / "manifest.json").read_text())
    (year / "manifest.json").write_text(json.dumps({**manifest, "interrupted": True}))
    assert not store.history_current(worked.LA)
    after = measures.compute(store, [worked.LA], Period.year(2025), "duckdb")
    # at 31 March 2025 only the 2024 return's rows remain, each ended on 1 April 2024
    assert {r.measure.id: r.numerator for r in after}["cla_count"] == 0
    assert store.history_current(worked.LA)
