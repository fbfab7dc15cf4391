"""The pandas baseline of benchmarks/returns.py computes what the engine computes: on the
hand-worked council of tests/returns/test_measures.py it gives exactly the engine's
numerators and denominators, so the benchmark compares like with like."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from whatworks.returns import measures
from whatworks.returns.measures import Period
from whatworks.returns.store import ReturnsStore

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


baseline = load(ROOT / "benchmarks" / "returns_pandas.py", "returns_pandas_baseline")
worked = load(ROOT / "tests" / "returns" / "test_measures.py", "returns_worked_council")
NO_RETURNS = "E09000001"


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> ReturnsStore:
    store: ReturnsStore = worked.write_council(tmp_path_factory.mktemp("returns"))
    return store


def engine(store: ReturnsStore, year: int) -> dict[tuple[str, str], tuple]:
    results = measures.compute(store, [worked.LA, NO_RETURNS], Period.year(year), "duckdb")
    return {(r.la, r.measure.id): (r.numerator, r.denominator) for r in results}


@pytest.mark.parametrize("source", ["years", "history"])
@pytest.mark.parametrize("year", [2025, 2024])
def test_the_baseline_gives_the_engines_numerators_and_denominators(
    council: ReturnsStore, year: int, source: str
) -> None:
    """Stitching the years in pandas, the baseline's own way, checks the histories the
    store keeps; reading those histories is what the benchmark times."""
    found = baseline.measures(council.root, [worked.LA, NO_RETURNS], year, source)
    assert found == engine(council, year)


def test_the_baseline_matches_the_hand_calculation(council: ReturnsStore) -> None:
    found = baseline.measures(council.root, None, 2025)
    assert {m: found[(worked.LA, m)] for m in worked.EXPECTED_2025} == {
        m: (numerator, denominator)
        for m, (numerator, denominator, _value) in worked.EXPECTED_2025.items()
    }


def test_social_worker_changes_are_not_applicable_before_2024(council: ReturnsStore) -> None:
    found = baseline.measures(council.root, [worked.LA, NO_RETURNS], 2023)
    assert found == engine(council, 2023)  # the engine's "z" has (None, None)
    assert found[(worked.LA, "social_worker_changes_per_child")] == (None, None)


def test_the_baseline_uses_the_engines_codes_and_measures() -> None:
    for name in ("SHORT_BREAKS", "TEMPORARY", "NEW_CARER", "EET", "SUITABLE"):
        assert getattr(baseline, name) == getattr(measures, name), name
    assert baseline.SOCIAL_WORKER_FROM == measures.SOCIAL_WORKER_FROM
    assert [m[0] for m in baseline.MEASURES] == [m.id for m in measures.MEASURES]
    counted = [m[0] for m in baseline.MEASURES if m[1]]
    assert counted == [m.id for m in measures.MEASURES if m.unit in ("children", "referrals")]
