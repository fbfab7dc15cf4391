"""A council chooses its indicators and targets through the form; others cannot."""

from __future__ import annotations

import csv

import pytest

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.data import published_file
from whatworks.outcomes.catalogue import catalogue
from whatworks.outcomes.published import import_published

PASSWORD = "a long test password"


@pytest.fixture
def councils(sessions) -> None:
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
        create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "analyst", organisation=leeds)


def form_for(token: str, headline: list[str], targets: dict[str, str]) -> dict[str, str]:
    data = {"csrf_token": token}
    for item in catalogue():
        data[f"tier-{item.id}"] = "headline" if item.id in headline else "secondary"
        for power in ("communication", "proxy", "data"):
            data[f"{power}-{item.id}"] = item.powers[power]
        data[f"target-{item.id}"] = targets.get(item.id, "")
    return data


def test_only_the_council_reaches_its_choices(client, councils, sign_in) -> None:
    assert client.get("/places/E09000003/indicators").status_code == 401
    sign_in(client, "leeds", PASSWORD)
    assert client.get("/places/E09000003/indicators").status_code == 403
    assert client.post("/places/E09000003/indicators", data={}).status_code == 403


def test_council_chooses_headline_indicators_and_targets(
    client, councils, sign_in, csrf_from, session
) -> None:
    c1 = published_file("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv")
    import_published(session, [c1])
    session.commit()
    with c1.open(encoding="utf-8-sig", newline="") as handle:
        latest = next(
            float(r["rereferral_percent"])
            for r in csv.DictReader(handle)
            if r["new_la_code"] == "E09000003" and r["time_period"] == "2025"
        )
    sign_in(client, "barnet", PASSWORD)
    page = client.get("/places/E09000003/indicators")
    assert page.status_code == 200
    token = csrf_from(page.text)
    assert (
        client.post("/places/E09000003/indicators", data=form_for("forged", [], {})).status_code
        == 403
    )
    saved = client.post(
        "/places/E09000003/indicators",
        data=form_for(
            token, ["rereferral_percent", "cpp_subsequent_percent"], {"rereferral_percent": "12.5"}
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    card = client.get("/api/places/E09000003/scorecard").json()
    headline = [r["indicator"] for r in card["rows"] if r["tier"] == "headline"]
    assert headline == ["rereferral_percent", "cpp_subsequent_percent"]
    row = card["rows"][0]
    assert (row["latest"]["value"], row["target"]) == (latest, 12.5)
    assert row["variance_from_target"] == pytest.approx(latest - 12.5)
    page = client.get("/places/E09000003/scorecard")
    assert "Barnet's own headline and secondary indicators" in page.text


def test_a_bad_target_is_explained_and_nothing_changes(
    client, councils, sign_in, csrf_from
) -> None:
    sign_in(client, "barnet", PASSWORD)
    token = csrf_from(client.get("/places/E09000003/indicators").text)
    refused = client.post(
        "/places/E09000003/indicators",
        data=form_for(token, ["rereferral_percent"], {"rereferral_percent": "twelve"}),
    )
    assert refused.status_code == 400
    assert "must be a number" in refused.text
    too_many = client.post(
        "/places/E09000003/indicators",
        data=form_for(token, [i.id for i in catalogue()[:5]], {}),
    )
    assert too_many.status_code == 400
    assert "between 1 and 4 headline" in too_many.text
    card = client.get("/api/places/E09000003/scorecard").json()
    assert all(r["target"] is None for r in card["rows"])
