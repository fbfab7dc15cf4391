"""An intervention's benefits and costs, and whether its effect depends on the conditions,
on its page and JSON twin, and the researchers' form for the economic case and savings
claims. Expected numbers are worked out in the tests from the demo's invented counts and
economic case (seed.DEMO_TRIALS, demo_seed.DEMO_CASE), not read back from the code."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent
from whatworks.evidence import demo_seed, economics, seed, synthesis
from whatworks.evidence.models import ClaimedSaving, EconomicCase

PASSWORD = "a long test password"
DEMO = seed.DEMO_INTERVENTION
CARE = "Care entry within 12 months"
ECONOMICS = f"/evidence/interventions/{DEMO}/economics"


@pytest.fixture
def hub_store(sessions) -> None:
    """The bundled evidence, the demo, a researcher and a member."""
    with transaction(sessions) as session:
        for load in (seed.seed, seed.seed_demo):
            load(session)
        for role in ("researcher", "member"):
            create_user(session, role, PASSWORD, role)


def count(sessions, model) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def trial(title: str) -> tuple[float, float]:
    """log RR and its variance from a demo trial's counts, by hand."""
    _, _, _, ai, n1, ci, n2 = next(t for t in seed.DEMO_TRIALS if t[0] == title)
    return math.log((ai / n1) / (ci / n2)), 1 / ai - 1 / n1 + 1 / ci - 1 / n2


#: The randomised demo trials, which the hub pools, and the region seed_demo places each in.
POOLED = {
    "Family network meetings in Northtown (demo)": "North East",
    "Family network meetings in Southby (demo)": "South West",
    "Family network meetings in Westford (demo)": "South West",
    "Family network meetings in Midshire (demo)": "North East",
}


def case_form(**changes: str) -> dict[str, str]:
    return {**demo_seed.DEMO_CASE, **changes}


# ---------------------------------------------------------------------------------------
# benefits and costs


def test_demo_benefit_cost_matches_a_hand_calculation(client, hub_store) -> None:
    api = client.get(f"/api/evidence/interventions/{DEMO}").json()
    found = api["economics"]
    assert found["computed"] is True and found["is_demo"] is True
    # the pooled REML effect of the four randomised trials, as synthesis gives it
    yi, vi = zip(*(trial(t) for t in POOLED), strict=True)
    pooled = synthesis.meta(list(yi), list(vi), method="REML")
    assert found["pooled_estimate"] == pytest.approx(pooled.estimate, abs=1e-9)
    # by hand, from the demo case: baseline 22%, £20,000 a year for years 1 and 2,
    # £750 per child (the unit cost) in year 0, discounted at 3.5%
    change = 0.22 * (1 - math.exp(pooled.estimate))
    change_se = 0.22 * math.exp(pooled.estimate) * pooled.se  # delta method
    benefits = change * 20_000 / 1.035 + change * 20_000 / 1.035**2
    assert found["absolute_change"] == pytest.approx(change, rel=1e-9)
    assert found["absolute_change_se"] == pytest.approx(change_se, rel=1e-9)
    assert found["result"]["benefits"] == pytest.approx(benefits, rel=1e-9)
    assert found["result"]["costs"] == 750
    assert found["result"]["net_present_value"] == pytest.approx(benefits - 750, rel=1e-9)
    assert found["result"]["benefit_cost_ratio"] == pytest.approx(benefits / 750, rel=1e-9)
    # the chance is seeded: the same inputs and seed give the same answer, every time
    again = economics.chance_benefits_exceed_costs(
        change, change_se, [0, 20_000, 20_000], [750], cost_uncertainty=0.2, seed=0
    )
    assert found["risk"]["chance_benefits_exceed_costs"] == again.chance_benefits_exceed_costs
    second = client.get(f"/api/evidence/interventions/{DEMO}").json()["economics"]
    assert second["risk"] == found["risk"]
    page = client.get(f"/evidence/interventions/{DEMO}")
    assert "Benefits and costs" in page.text
    assert f"£{benefits - 750:,.0f}" in page.text and f"{benefits / 750:.2f}" in page.text
    assert f"{100 * again.chance_benefits_exceed_costs:.1f}% of 10,000 simulations" in page.text
    assert "What goes into it" in page.text and "22.0% of children" in page.text
    # the demo's savings claim is shown as reported, beside the result
    assert api["savings_claims"][0]["amount"] == 1_200_000
    assert "£1,200,000 (2023)" in page.text


def test_no_case_or_no_pooled_effect_says_why(client, hub_store, sign_in, csrf_from) -> None:
    page = client.get("/evidence/interventions/pause")
    assert "No economic case is recorded for Pause" in page.text
    assert client.get("/api/evidence/interventions/pause").json()["economics"] is None
    sign_in(client, "researcher")
    form = client.get("/evidence/interventions/pause/economics")
    assert form.status_code == 200
    outcome = client.get("/api/evidence/interventions/pause").json()["outcomes"][0]["outcome"]
    sent = client.post(
        "/evidence/interventions/pause/economics",
        data=case_form(outcome=outcome, value_source="A test source")
        | {"csrf_token": csrf_from(form.text)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    found = client.get("/api/evidence/interventions/pause").json()["economics"]
    assert found["computed"] is False
    assert "no pooled effect" in found["reasons"][0]
    assert "cannot be worked out yet" in client.get("/evidence/interventions/pause").text


# ---------------------------------------------------------------------------------------
# the form


def test_researcher_changes_the_case_and_it_is_audited(
    client, hub_store, sign_in, csrf_from, sessions
) -> None:
    sign_in(client, "researcher")
    form = client.get(ECONOMICS)
    assert form.status_code == 200 and 'value="20000.00"' in form.text
    sent = client.post(
        ECONOMICS,
        data=case_form(horizon_years="3") | {"csrf_token": csrf_from(form.text)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    found = client.get(f"/api/evidence/interventions/{DEMO}").json()["economics"]
    change = found["absolute_change"]
    by_hand = sum(change * 20_000 / 1.035**t for t in (1, 2, 3))
    assert found["result"]["benefits"] == pytest.approx(by_hand, rel=1e-9)
    with sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "set economic case")
        ).all()[-1]
    assert event.username == "researcher" and "horizon_years" in event.detail


def test_bad_input_stores_nothing(client, hub_store, sign_in, csrf_from, sessions) -> None:
    sign_in(client, "researcher")
    form = client.get(ECONOMICS)
    with sessions() as session:
        before = session.get(EconomicCase, DEMO)
        assert before is not None
        stored = (before.value_per_unit, before.horizon_years, before.updated_at)
    refused = client.post(
        ECONOMICS,
        data=case_form(value_per_unit="lots", horizon_years="0", baseline="140", value_source="")
        | {"csrf_token": csrf_from(form.text)},
    )
    assert refused.status_code == 400
    assert "There is a problem" in refused.text
    for message in (
        "Enter the value in pounds of one unit a year",
        "The horizon must be a whole number of years from 1 to 50",
        "The baseline risk must be a percentage above 0 and below 100",
        "Enter where the value comes from",
    ):
        assert message in refused.text
    assert 'href="#value_per_unit"' in refused.text
    with sessions() as session:
        after = session.get(EconomicCase, DEMO)
        assert after is not None
        assert (after.value_per_unit, after.horizon_years, after.updated_at) == stored
    assert count(sessions, EconomicCase) == 1
    claims = count(sessions, ClaimedSaving)
    refused = client.post(
        f"/evidence/interventions/{DEMO}/savings",
        data={"amount": "1000", "basis": "Before and after", "source": "", "year": "19"}
        | {"csrf_token": csrf_from(form.text)},
    )
    assert refused.status_code == 400 and "Enter the source" in refused.text
    assert "Enter the year of the claim" in refused.text
    assert count(sessions, ClaimedSaving) == claims


def test_savings_claims_are_added_and_removed(
    client, hub_store, sign_in, csrf_from, sessions
) -> None:
    sign_in(client, "researcher")
    token = csrf_from(client.get(ECONOMICS).text)
    claim = {
        "amount": "£2,100,000",
        "basis": "Net savings a year, before and after, one council",
        "source": "A test report, 2019",
        "year": "2019",
    }
    added = client.post(
        f"/evidence/interventions/{DEMO}/savings",
        data=claim | {"csrf_token": token},
        follow_redirects=False,
    )
    assert added.status_code == 303
    listed = client.get(f"/api/evidence/interventions/{DEMO}").json()["savings_claims"]
    assert listed[-1]["amount"] == 2_100_000 and listed[-1]["source"] == "A test report, 2019"
    with sessions() as session:
        claim_id = max(session.scalars(select(ClaimedSaving.id)))
    removed = client.post(
        f"/evidence/interventions/{DEMO}/savings/{claim_id}/remove",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert len(client.get(f"/api/evidence/interventions/{DEMO}").json()["savings_claims"]) == 1
    with sessions() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"add savings claim", "remove savings claim"} <= actions


def test_only_researchers_may_use_the_form(client, hub_store, sign_in, sessions) -> None:
    visitor = client.get(ECONOMICS, follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/sign-in")
    sign_in(client, "member")
    assert client.get(ECONOMICS).status_code == 403
    # a member's post is refused before the form is read
    refused = client.post(ECONOMICS, data=case_form(horizon_years="9"))
    assert refused.status_code == 403
    assert client.post(f"/evidence/interventions/{DEMO}/savings", data={}).status_code == 403
    with sessions() as session:
        case = session.get(EconomicCase, DEMO)
        assert case is not None and case.horizon_years == 2
    page = client.get(f"/evidence/interventions/{DEMO}")
    assert ECONOMICS not in page.text


# ---------------------------------------------------------------------------------------
# moderators


def test_region_subgroups_match_synthesis_and_a_hand_calculation(client, hub_store) -> None:
    api = client.get(f"/api/evidence/interventions/{DEMO}").json()
    care = next(o for o in api["outcomes"] if o["outcome"] == CARE)
    moderators = care["moderators"]
    assert moderators["k"] == 4 and moderators["exploratory"] is True
    region = next(m for m in moderators["moderators"] if m["name"] == "region")
    assert region["analysed"] is True
    # the same numbers, straight from the counts, through synthesis.subgroups
    titles = list(POOLED)
    yi, vi = zip(*(trial(t) for t in titles), strict=True)
    direct = synthesis.subgroups(list(yi), list(vi), [POOLED[t] for t in titles])
    for name, meta in direct.groups.items():
        assert region["subgroups"]["groups"][name]["estimate"] == pytest.approx(meta.estimate)
        assert region["subgroups"]["groups"][name]["k"] == 2
    assert region["subgroups"]["q_between"] == pytest.approx(direct.q_between)
    # North East by hand: Northtown and Midshire agree closely, so tau^2 is 0 and the
    # pooled log RR is the inverse-variance weighted mean
    (y1, v1), (y2, v2) = trial(titles[0]), trial(titles[3])
    by_hand = (y1 / v1 + y2 / v2) / (1 / v1 + 1 / v2)
    north_east = region["subgroups"]["groups"]["North East"]
    assert north_east["tau2"] == pytest.approx(0, abs=1e-6)
    assert north_east["estimate"] == pytest.approx(by_hand, abs=1e-5)
    assert north_east["se"] == pytest.approx(math.sqrt(1 / (1 / v1 + 1 / v2)), abs=1e-5)
    # every pooled site is rated 4 on "clear vision": nothing to compare, and it says so
    vision = next(m for m in moderators["moderators"] if m["name"] == "clear vision")
    assert vision["analysed"] is False and "same one (4)" in vision["reason"]
    engagement = next(
        m
        for m in moderators["moderators"]
        if m["name"] == "sustained engagement with children and families"
    )
    assert engagement["analysed"] is True and len(engagement["regression"]["coefficients"]) == 2
    page = client.get(f"/evidence/interventions/{DEMO}")
    assert "Does it depend on the conditions?" in page.text
    assert "With 4 studies (fewer than 10) this is exploratory" in page.text
    ratio = math.exp(by_hand)
    assert f"North East (2 studies): RR {ratio:.2f}" in page.text
    assert "Not analysed: Every study with a value has the same one (4)." in page.text


def test_moderators_need_a_pooled_effect(client, hub_store) -> None:
    api = client.get("/api/evidence/interventions/pause").json()
    assert all(o["moderators"] is None for o in api["outcomes"])
    page = client.get("/evidence/interventions/pause")
    assert "has an effect pooled from two or more studies, so there is nothing to compare" in (
        page.text
    )
