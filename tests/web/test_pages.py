"""Pages and their JSON twins, checked against the bundled DfE files."""

from __future__ import annotations

import csv

import pytest

from whatworks.data import published_file
from whatworks.outcomes.published import import_published

CLA = "cla_number_and_rate_per_10k_children.csv"
C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"


def published(name: str, la: str, measure: str, **filters: str) -> list[tuple[str, str]]:
    """(period, cell) for one authority, read straight from the bundled CSV."""
    with published_file(name).open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            (r["time_period"], r[measure])
            for r in csv.DictReader(handle)
            if r["new_la_code"] == la and all(r[k] == v for k, v in filters.items())
        ]
    return sorted(rows)


@pytest.fixture
def barnet_data(session) -> None:
    import_published(session, [published_file(CLA), published_file(C1)])
    session.commit()


def test_api_place_returns_codes_neighbours_and_every_published_year(client, barnet_data) -> None:
    response = client.get("/api/places/E09000003")
    assert response.status_code == 200
    place = response.json()
    assert (place["name"], place["old_la_code"], place["new_la_code"]) == (
        "Barnet",
        "302",
        "E09000003",
    )
    assert place["region"]["name"] == "Outer London"
    assert len(place["neighbours"]) == 10
    assert place["neighbours"][0] == "E09000031"  # Waltham Forest, first in the 2025 model
    cla = published(
        CLA,
        "E09000003",
        "rate_per_10000",
        population_type="Children looked after on 31 March each year",
    )
    assert [p["period"] for p in place["series"]["cla_rate_per_10000"]] == [p for p, _ in cla]
    assert [p["value"] for p in place["series"]["cla_rate_per_10000"]] == [float(v) for _, v in cla]
    rereferrals = published(C1, "E09000003", "rereferral_percent")
    assert len(rereferrals) == 13  # 2013-2025
    assert [
        (p["period"], p["value"], p["status"]) for p in place["series"]["rereferral_percent"]
    ] == [(p, float(v), "value") for p, v in rereferrals]


def test_api_place_2021_model(client) -> None:
    place = client.get("/api/places/E09000003?model=2021").json()
    assert place["neighbour_model"] == "2021"
    assert len(place["neighbours"]) == 10
    assert client.get("/api/places/E09000003?model=1999").status_code == 422


def test_place_page_shows_the_figures(client, barnet_data) -> None:
    page = client.get("/places/E09000003")
    assert page.status_code == 200
    assert '<h1 class="govuk-heading-xl">Barnet</h1>' in page.text
    assert "<svg" in page.text and "<figure" in page.text
    for period, value in published(
        CLA,
        "E09000003",
        "rate_per_10000",
        population_type="Children looked after on 31 March each year",
    ):
        assert f'<th scope="row" class="govuk-table__header">{period}</th>' in page.text
        assert f">{value}<" in page.text
    assert "Waltham Forest" in page.text


def test_places_list_and_filters(client) -> None:
    everyone = client.get("/api/places").json()
    assert len(everyone) == 153
    assert [p["name"] for p in client.get("/api/places?name=barn").json()] == ["Barnet", "Barnsley"]
    assert len(client.get("/api/places?region=E12000007").json()) == 33
    page = client.get("/places?name=barnet")
    assert 'href="/places/E09000003"' in page.text


def test_unknown_place_is_a_404_page_and_json(client) -> None:
    page = client.get("/places/E99999999")
    assert page.status_code == 404
    assert "No local authority has the code" in page.text
    assert "govuk-header" in page.text or "govuk-generic-header" in page.text
    api = client.get("/api/places/E99999999")
    assert api.status_code == 404
    assert api.json()["error"] == "Page not found"


def test_missing_page_is_a_styled_404(client) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "Page not found" in page.text


def _broken() -> None:
    raise RuntimeError("broken on purpose")


def test_server_error_is_a_styled_500(settings) -> None:
    from fastapi.testclient import TestClient

    from whatworks.web.app import create_app

    app = create_app(settings)
    app.add_api_route("/boom", _broken)

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom")
    assert page.status_code == 500
    assert "Sorry, there is a problem with whatworks" in page.text
    assert "broken on purpose" not in page.text


@pytest.mark.parametrize(
    "path", ["/", "/places", "/indicators", "/accessibility", "/data-sources", "/sign-in", "/docs"]
)
def test_every_page_renders(client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert 'lang="en-GB"' in page.text
    assert "Open Government Licence" in page.text


def test_json_twins_are_in_the_openapi_schema(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/places",
        "/api/places/{code}",
        "/api/indicators",
        "/api",
        "/api/me",
        "/api/data-sources",
        "/api/accessibility",
        "/api/admin/audit",
    ):
        assert path in paths, path
    assert client.get("/api").json()["local_authorities"] == 153


def test_indicator_across_councils_is_ranked_from_the_csv(client, barnet_data) -> None:
    with published_file(C1).open(encoding="utf-8-sig", newline="") as handle:
        cells = {
            r["old_la_code"]: r["rereferral_percent"]
            for r in csv.DictReader(handle)
            if r["geographic_level"] == "Local authority" and r["time_period"] == "2024"
        }
    with published_file("sn_model_2025_wide.csv").open(encoding="utf-8-sig") as handle:
        current = {r["old_la_code"] for r in csv.DictReader(handle)}
    symbols = {"c", "x", "z", "k", "low", "u", ":"}
    numbers = {c: float(v) for c, v in cells.items() if c in current and v not in symbols}
    found = client.get("/api/indicators/rereferral_percent?period=2024").json()
    assert found["period"] == "2024"
    ranked = [la for la in found["local_authorities"] if la["value"] is not None]
    assert len(ranked) == len(numbers)
    assert ranked[0]["value"] == min(numbers.values())  # lower is better: best first
    assert [la["value"] for la in ranked] == sorted(numbers.values())
    assert ranked[0]["rank"] == 1 and ranked[-1]["quartile"] == 4
    exported = client.get("/indicators/rereferral_percent.csv?period=2024").text.splitlines()
    assert exported[0].startswith("name,new_la_code,old_la_code,period,value,status,rank")
    assert len(exported) == 1 + len(found["local_authorities"])
    page = client.get("/indicators/rereferral_percent?period=2024")
    assert page.status_code == 200 and "every local authority best first" in page.text
