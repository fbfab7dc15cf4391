"""A council defines performance measures, enters values by form and CSV, and sees the
trend and SPC; other organisations and anonymous visitors cannot."""

from __future__ import annotations

import pytest

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction

PASSWORD = "a long test password"


@pytest.fixture
def councils(sessions) -> None:
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council", "E08000035")
        create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)


def define(client, csrf_from, **fields: str) -> str:
    token = csrf_from(client.get("/measures/new").text)
    data = {
        "csrf_token": token,
        "service": "Family Group Conferencing",
        "name": "Plans reviewed within 12 weeks (%)",
        "quadrant": "how well",
        "kind": "percent",
        "polarity": "higher is better",
        "target": "80",
        **fields,
    }
    response = client.post("/measures/new", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_define_enter_upload_and_read(client, councils, sign_in, csrf_from) -> None:
    assert client.get("/measures").status_code == 401
    sign_in(client, "barnet", PASSWORD)
    page = define(client, csrf_from)
    token = csrf_from(client.get(page).text)
    added = client.post(
        f"{page}/values",
        data={
            "csrf_token": token,
            "period": "2025-Q1",
            "value": "",
            "numerator": "30",
            "denominator": "40",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    csv_text = "period,value,numerator,denominator\n2025-Q2,,33,40\n2025-Q3,85,,\n"
    uploaded = client.post(
        f"{page}/upload",
        data={"csrf_token": token},
        files={"file": ("values.csv", csv_text, "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    measure = client.get(f"/api{page}").json()
    assert [(v["period"], v["value"]) for v in measure["values"]] == [
        ("2025-Q1", 75.0),
        ("2025-Q2", 82.5),
        ("2025-Q3", 85.0),
    ]  # 30/40, 33/40
    assert measure["judgement"] == "improving" and measure["periods_in_trend"] == 2
    assert measure["variance_from_target"] == 5.0
    assert "Plans reviewed within 12 weeks" in client.get("/measures").text
    exported = client.get(f"{page}/values.csv").text.splitlines()
    assert exported[0] == "period,value,status"
    assert exported[1] == "2025-Q1,75.0,value"

    client.cookies.clear()
    sign_in(client, "leeds", PASSWORD)
    assert client.get(page).status_code == 403
    assert client.get(f"/api{page}").status_code == 403
    assert client.get("/api/measures").json() == []


def test_a_bad_upload_stores_nothing_and_names_each_row(
    client, councils, sign_in, csrf_from
) -> None:
    sign_in(client, "barnet", PASSWORD)
    page = define(client, csrf_from)
    token = csrf_from(client.get(page).text)
    csv_text = "period,value\n2025-Q1,70\nlast spring,71\n2025-Q3,170\n2025-Q1,72\n"
    refused = client.post(
        f"{page}/upload",
        data={"csrf_token": token},
        files={"file": ("bad.csv", csv_text, "text/csv")},
    )
    assert refused.status_code == 400
    assert "bad.csv was not imported; nothing from it was stored." in refused.text
    assert "row 3: period &#39;last spring&#39; is not a year" in refused.text
    assert "row 4: value 170 is not a percentage between 0 and 100" in refused.text
    assert "row 5, column period: 2025-Q1 appears twice" in refused.text
    assert client.get(f"/api{page}").json()["values"] == []
    no_token = client.post(
        f"{page}/upload", files={"file": ("v.csv", "period,value\n", "text/csv")}
    )
    assert no_token.status_code == 403


def test_definition_is_checked(client, councils, sign_in, csrf_from) -> None:
    sign_in(client, "barnet", PASSWORD)
    token = csrf_from(client.get("/measures/new").text)
    refused = client.post(
        "/measures/new",
        data={
            "csrf_token": token,
            "service": "",
            "name": "x",
            "quadrant": "how often",
            "kind": "number",
            "polarity": "no polarity",
        },
    )
    assert refused.status_code == 400
    assert "Enter the service or programme" in refused.text
    assert "Choose a quadrant" in refused.text


def test_the_target_can_be_changed_or_removed(client, councils, sign_in, csrf_from) -> None:
    sign_in(client, "barnet", PASSWORD)
    page = define(client, csrf_from)
    api = f"/api{page}"
    token = csrf_from(client.get(page).text)
    client.post(f"{page}/values", data={"csrf_token": token, "period": "2025-Q1", "value": "70"})
    assert client.get(api).json()["target"] == 80
    # 70 against a target of 80: 10 short.
    assert client.get(api).json()["variance_from_target"] == -10
    bad = client.post(f"{page}/target", data={"csrf_token": token, "target": "120"})
    assert bad.status_code == 400 and "between 0 and 100" in bad.text
    assert client.get(api).json()["target"] == 80
    moved = client.post(
        f"{page}/target", data={"csrf_token": token, "target": "65"}, follow_redirects=False
    )
    assert moved.status_code == 303
    assert client.get(api).json()["target"] == 65
    assert client.get(api).json()["variance_from_target"] == 5
    client.post(f"{page}/target", data={"csrf_token": token, "target": ""})
    assert client.get(api).json()["target"] is None
    sign_in(client, "leeds", PASSWORD)
    token = csrf_from(client.get("/measures/new").text)
    refused = client.post(f"{page}/target", data={"csrf_token": token, "target": "1"})
    assert refused.status_code == 403
