"""A council freezes a baseline, writes its story and action plan, publishes it and prints
the report; an anonymous visitor sees the published plan and never the later draft."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent
from whatworks.data import published_file
from whatworks.outcomes.published import import_published

PASSWORD = "a long test password"
PAGE = "/places/E09000003/curve/rereferral_percent"


@pytest.fixture
def barnet(sessions, session) -> None:
    import_published(
        session, [published_file("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv")]
    )
    session.commit()
    with transaction(sessions) as s:
        org = get_or_create_organisation(s, "Barnet Council", "council", "E09000003")
        create_user(s, "barnet", PASSWORD, "member", organisation=org)


def plan_form(token: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "method": "linear",
        "status": "draft",
        "story": "",
        "partners": "",
        "what_works": "",
        "target": "",
        "reason": "",
        **fields,
    }


def test_freeze_write_publish_and_print(client, barnet, sign_in, csrf_from, session) -> None:
    anonymous = client.get(f"/api{PAGE}").json()
    assert anonymous["plan"] is None
    assert anonymous["verdict"]["code"] == "no verdict"
    computed = anonymous["forecast"]

    sign_in(client, "barnet", PASSWORD)
    page = client.get(PAGE)
    assert "Update the plan" in page.text
    token = csrf_from(page.text)
    first_period = computed[0]["period"]
    saved = client.post(
        PAGE,
        data=plan_form(
            token,
            freeze="yes",
            status="published",
            target="12",
            **{f"adjust-{first_period}": "14.5"},
            story="Re-referrals fell after the front door changed.",
            partners="Police, schools, health visitors",
            what_works="Family group conferences",
            **{
                "action-0": "Audit a sample of re-referrals",
                "owner-0": "Head of MASH",
                "start-0": "2026-12-01",
                "due-0": "2027-03-31",
                "status-0": "in progress",
            },
            reason="First plan",
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303

    published = client.get(f"/api{PAGE}").json()
    frozen = published["frozen_baseline"]
    assert frozen[0] == {
        **computed[0],
        "value": 14.5,
        "lower": pytest.approx(computed[0]["lower"] + 14.5 - computed[0]["value"]),
        "upper": pytest.approx(computed[0]["upper"] + 14.5 - computed[0]["value"]),
    }
    assert frozen[1:] == computed[1:]
    assert published["plan"]["version"] == 1 and published["plan"]["status"] == "published"
    assert published["plan"]["actions"][0]["owner"] == "Head of MASH"
    assert published["target"] == 12.0

    # A later draft keeps the frozen baseline and is private to the council.
    token = csrf_from(client.get(PAGE).text)
    client.post(PAGE, data=plan_form(token, story="Draft: a new idea", reason="work in progress"))
    own = client.get(f"/api{PAGE}").json()
    assert own["plan"]["version"] == 2 and own["plan"]["status"] == "draft"
    assert own["frozen_baseline"] == frozen

    report = client.get(f"{PAGE}/report")
    assert report.status_code == 200
    assert "Draft: a new idea" in report.text  # the council prints its own latest version

    client.cookies.clear()
    public = client.get(f"/api{PAGE}").json()
    assert public["plan"]["version"] == 1
    assert "Draft: a new idea" not in client.get(PAGE).text
    public_report = client.get(f"{PAGE}/report").text
    assert "Draft: a new idea" not in public_report
    assert "Re-referrals fell after the front door changed." in public_report
    assert "Audit a sample of re-referrals" in public_report
    assert "Update the plan" not in client.get(PAGE).text

    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "save curve plan")
    ).all()
    assert len(actions) == 2


def test_freezing_needs_the_council_and_a_token(client, barnet, sign_in) -> None:
    assert client.post(PAGE, data=plan_form("x", freeze="yes")).status_code == 403
    sign_in(client, "barnet", PASSWORD)
    assert client.post(PAGE, data=plan_form("forged", freeze="yes")).status_code == 403
    assert client.get(f"/api{PAGE}").json()["plan"] is None


def test_bad_numbers_are_explained(client, barnet, sign_in, csrf_from) -> None:
    sign_in(client, "barnet", PASSWORD)
    token = csrf_from(client.get(PAGE).text)
    refused = client.post(PAGE, data=plan_form(token, freeze="yes", target="a dozen"))
    assert refused.status_code == 400
    assert "The target must be a number" in refused.text


@pytest.mark.slow
def test_the_report_prints_to_pdf(client, barnet) -> None:
    response = client.get(f"{PAGE}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert len(response.content) > 20_000  # the chart and styles, not an empty page
