"""Places like mine, adoption and centres of excellence: pages and JSON twins on a store with
the catalogue's published files and the bundled and demo evidence (whose demo adoptions of
family group conferencing are in Waltham Forest, Barnet's first statistical neighbour, in
Harrow, its third, and in Cornwall)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from whatworks.config import Settings
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.data import published_file
from whatworks.evidence import seed
from whatworks.outcomes.catalogue import catalogue
from whatworks.outcomes.published import import_published
from whatworks.web.app import create_app

pytestmark = pytest.mark.slow

FGC = "family-group-conferencing-at-pre-proceedings"
BARNET, WALTHAM_FOREST = "E09000003", "E09000031"


@pytest.fixture(scope="module")
def spread_client(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    engine = create_db_engine(module_database_url)
    names = sorted({name for item in catalogue() for name in item.datasets})
    with transaction(make_session_factory(engine)) as session:
        import_published(session, [published_file(f"{name}.csv") for name in names])
        seed.seed(session)
        seed.seed_demo(session)
    engine.dispose()
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("spread-web")),
        database_url=module_database_url,
        secret_key="test-secret-key-not-for-use",
        engine="duckdb",
        secure_cookies=False,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_places_like_mine_page_and_json(spread_client: TestClient) -> None:
    page = spread_client.get(f"/places/{BARNET}/like-mine")
    assert page.status_code == 200
    assert (
        "Places like Barnet" in page.text and "Statistical neighbours (DfE 2025 model)" in page.text
    )
    assert "Waltham Forest" in page.text
    assert "FGC lead, Waltham Forest Council (demo)" in page.text
    data = spread_client.get(f"/api/spread/similar/{BARNET}").json()
    assert [n["statistical_neighbour_rank"] for n in data["statistical_neighbours"]] == list(
        range(1, 11)
    )
    assert data["statistical_neighbours"][0]["name"] == "Waltham Forest"
    assert data["statistical_neighbours"][0]["tried"][0]["intervention"]["id"] == FGC
    assert len(data["also_similar"]) == 10 and data["adopters"] is None
    # the old three-digit code works too
    assert spread_client.get("/api/spread/similar/302").json()["la_code"] == BARNET


def test_filtered_by_an_intervention(spread_client: TestClient) -> None:
    data = spread_client.get(f"/api/spread/similar/{BARNET}?intervention={FGC}").json()
    # neighbours first, in the DfE's order, then the rest by distance
    assert [a["name"] for a in data["adopters"]] == ["Waltham Forest", "Harrow", "Cornwall"]
    assert [a["tried"][0]["outcome"] for a in data["adopters"][:2]] == ["sustained", "stopped"]
    page = spread_client.get(f"/places/{BARNET}/like-mine?intervention={FGC}")
    assert page.status_code == 200
    assert "that adopted Family Group Conferencing at pre-proceedings" in page.text
    assert "Demo: what Waltham Forest Council (demo) learned." in page.text
    missing = spread_client.get(f"/api/spread/similar/{BARNET}?intervention=no-such-thing")
    assert missing.status_code == 404


def test_adoption_pages_and_json(spread_client: TestClient) -> None:
    page = spread_client.get(f"/spread/adoption/{FGC}")
    assert page.status_code == 200
    assert "Diffusion over time" in page.text and "<svg" in page.text
    assert "Waltham Forest" in page.text
    data = spread_client.get(f"/api/spread/adoption/{FGC}").json()
    # Cornwall from April 2020, Waltham Forest from September 2021, Harrow January 2022
    # to July 2023
    assert [(d["year"], d["new_adopters"], d["cumulative_adopters"]) for d in data["diffusion"]][
        :3
    ] == [(2020, 1, 1), (2021, 1, 2), (2022, 1, 3)]
    history = spread_client.get(f"/places/{BARNET}/adoption")
    assert history.status_code == 200
    assert "Family network meetings in Barnet (demo)" in history.text
    assert spread_client.get(f"/api/spread/places/{BARNET}/adoption").json()["adoptions"][0][
        "outcome"
    ] in ("adapted", "sustained")
    assert spread_client.get("/spread/adoption/no-such-thing").status_code == 404
    assert spread_client.get("/places/E99999999/adoption").status_code == 404


def test_centres_directory_and_json(spread_client: TestClient) -> None:
    data = spread_client.get("/api/spread/centres").json()
    assert data["threshold"] == 1.0 and data["min_years"] == 3 and data["centres"]
    for centre in data["centres"]:
        for topic in centre["topics"]:
            years = [y["standardised_residual"] for y in topic["years"]]
            assert len(years) >= 3 and min(years) >= 1.0
    page = spread_client.get("/spread/centres")
    assert page.status_code == 200 and data["centres"][0]["name"] in page.text
    one = spread_client.get("/api/spread/centres?indicator=care_leavers_eet_19_21_percent").json()
    assert one["centres"] and set(one["models"]) == {"care_leavers_eet_19_21_percent"}
    assert spread_client.get("/spread/centres?indicator=nope").status_code == 404
