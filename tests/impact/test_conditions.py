"""Conditions or model? Site effects related to the conditions for success and region.

The meta-regression is checked two ways: against an inverse-variance weighted slope worked
out by hand in the test for a 3-site example, and, on a real store (the DfE's published
re-referral figures and five councils with dated projects, rated here), against
`synthesis.meta` and `synthesis.subgroups` called directly on site effects that the test
reads from each project's own "Did it work here?" analysis.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace

import pytest
from scipy import stats
from sqlalchemy.orm import Session

from whatworks.core.audit import Actor
from whatworks.core.db import create_db_engine, make_session_factory
from whatworks.core.errors import NotFound
from whatworks.data import published_file
from whatworks.evidence import projects, synthesis
from whatworks.evidence.interventions import create_intervention
from whatworks.impact import conditions, service
from whatworks.impact.conditions import Site, relate
from whatworks.outcomes.published import import_published

C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025"
INDICATOR = "rereferral_percent"
TESTER = Actor("conditions tests")
VISION, LEADERS, LEARN = "clear vision", "visible leaders", "willingness to learn"
#: council code, start, (clear vision, visible leaders, willingness to learn), region
SITES = {
    "E09000003": (date(2019, 6, 1), (5, 4, 3), "London"),  # Barnet
    "E08000035": (date(2018, 2, 1), (2, 5, 3), "Yorkshire and The Humber"),  # Leeds
    "E09000007": (date(2020, 5, 1), (4, None, 3), "London"),  # Camden
    "E08000003": (date(2021, 9, 1), (3, None, 3), "North West"),  # Manchester
    "E10000016": (date(2019, 10, 1), (1, None, 3), "South East"),  # Kent
}


# ---- by hand, no store ------------------------------------------------------------------


def test_three_sites_slope_by_hand() -> None:
    """Three sites close to a line, with residuals small for their variances, so REML puts
    the residual tau^2 at 0 and the slope is the inverse-variance weighted least squares
    slope: sum w (x - xbar)(y - ybar) / sum w (x - xbar)^2, se 1 / sqrt(sum w (x - xbar)^2)."""
    x, y, v = [1.0, 3.0, 5.0], [1.0, 2.2, 2.9], [0.5, 1.0, 2.0]
    w = [1 / vi for vi in v]
    xbar = sum(wi * xi for wi, xi in zip(w, x, strict=True)) / sum(w)  # 2.428571...
    ybar = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / sum(w)
    sxx = sum(wi * (xi - xbar) ** 2 for wi, xi in zip(w, x, strict=True))
    sxy = sum(wi * (xi - xbar) * (yi - ybar) for wi, xi, yi in zip(w, x, y, strict=True))
    slope, se = sxy / sxx, 1 / math.sqrt(sxx)
    intercept = ybar - slope * xbar
    z = 1.959963984540054

    sites = [
        Site(f"site {i}", yi, math.sqrt(vi), 2020 + i, None, {VISION: int(xi)})
        for i, (xi, yi, vi) in enumerate(zip(x, y, v, strict=True))
    ]
    found = relate(sites)
    vision = next(m for m in found["moderators"] if m["name"] == VISION)
    assert vision["analysed"] and vision["tau2"] == 0
    b0, b1 = vision["coefficients"]
    assert b1["estimate"] == pytest.approx(slope, abs=1e-10)
    assert b1["se"] == pytest.approx(se, abs=1e-10)
    assert b1["ci_low"] == pytest.approx(slope - z * se, abs=1e-9)
    assert b1["ci_high"] == pytest.approx(slope + z * se, abs=1e-9)
    assert b1["p"] == pytest.approx(2 * stats.norm.sf(abs(slope / se)), abs=1e-10)
    assert b0["estimate"] == pytest.approx(intercept, abs=1e-10)
    # ratings 1, 3, 5 against first years 2020, 2021, 2022: later starters rate higher
    assert "also started later (correlation 1.00" in vision["findings"][1]


def test_moderators_need_three_sites_and_two_values() -> None:
    sites = [
        Site("A", 1.0, 1.0, 2020, "London", {VISION: 4, LEADERS: 3}),
        Site("B", 2.0, 1.0, 2021, "London", {VISION: 4, LEADERS: 5}),
        Site("C", 3.0, 1.0, 2022, "London", {VISION: 4}),
    ]
    found = {m["name"]: m for m in relate(sites)["moderators"]}
    assert found[LEADERS]["reason"] == (
        "Only 2 of the 3 sites have a value; at least 3 sites are needed."
    )
    assert found[VISION]["reason"] == "Every site with a value has the same one (4)."
    assert found["region"]["reason"] == "Every site with a value has the same one (London)."
    assert not any(m["analysed"] for m in found.values())
    assert found[LEARN]["reason"].startswith("Only 0 of the 3 sites")


def test_what_it_can_and_cannot_tell() -> None:
    sites = [Site("A", 1.0, 1.0, 2020), Site("B", 2.0, 1.0, 2021)]
    found = relate(sites)
    words = " ".join(found["what_it_can_tell"])
    assert found["exploratory"]
    assert "With 2 sites (fewer than 10) this is exploratory" in words
    assert "association, not causation" in words
    assert "rated by the sites themselves" in words
    assert "adopted earlier" in words
    assert "No moderator could be analysed here" in words


# ---- on a real store --------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(module_database_url: str) -> Iterator[SimpleNamespace]:
    """Published re-referrals; five councils with dated projects of one model, rated; one
    council with an undated project; and a second model adopted by two councils only."""
    engine = create_db_engine(module_database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        import_published(session, [published_file(f"{C1}.csv")])
        create_intervention(session, TESTER, "Conditions test model", slug="conditions-model")
        create_intervention(session, TESTER, "Two-site model", slug="two-site-model")
        ids = {}
        for code, (start, ratings, _) in SITES.items():
            project = projects.create_project(
                session,
                TESTER,
                f"Conditions test model in {code}",
                intervention_id="conditions-model",
                la_code=code,
                start_date=start,
                target_outcomes=[INDICATOR],
            )
            ids[code] = project.id
            for condition, rating in zip((VISION, LEADERS, LEARN), ratings, strict=True):
                if rating is not None:
                    projects.rate_condition(
                        session, TESTER, project.id, condition, 1, date(2022, 1, 1)
                    )  # an earlier rating: only the latest counts
                    projects.rate_condition(
                        session, TESTER, project.id, condition, rating, date(2024, 1, 1)
                    )
        projects.create_project(
            session,
            TESTER,
            "Conditions test model in Camden, again",
            intervention_id="conditions-model",
            la_code="E06000057",  # Northumberland, no start date
        )
        for code, start in (("E09000003", date(2019, 6, 1)), ("E08000035", date(2018, 2, 1))):
            projects.create_project(
                session,
                TESTER,
                f"Two-site model in {code}",
                intervention_id="two-site-model",
                la_code=code,
                start_date=start,
            )
        session.commit()
        yield SimpleNamespace(factory=factory, projects=ids)
    engine.dispose()


@pytest.fixture
def session(store: SimpleNamespace) -> Iterator[Session]:
    with store.factory() as one:
        yield one
        one.rollback()


def test_site_effects_are_each_projects_own_estimate(session, store) -> None:
    found = conditions.analyse_intervention(session, "conditions-model")
    assert found["indicator"]["id"] == INDICATOR  # the projects' shared target outcome
    assert found["undated"] == ["E06000057"]
    sites = {s["la_code"]: s for s in found["sites"]}
    assert set(sites) == set(SITES)
    for code, project_id in store.projects.items():
        own = service.analyse_project(session, service.Options(project_id, INDICATOR))
        assert sites[code]["effect"] == own["did"]["att"]
        assert sites[code]["se"] == own["did"]["se"]
        assert sites[code]["digest"] == own["digest"]
        assert sites[code]["region"] == SITES[code][2]
    assert sites["E09000003"]["conditions"] == {VISION: 5, LEADERS: 4, LEARN: 3}
    assert sites["E09000003"]["first_treated"] == 2020


def test_meta_regression_matches_synthesis_called_directly(session, store) -> None:
    found = conditions.analyse_intervention(session, "conditions-model")
    sites = {s["la_code"]: s for s in found["sites"]}
    codes = list(SITES)
    yi = [sites[c]["effect"] for c in codes]
    vi = [sites[c]["se"] ** 2 for c in codes]

    pooled = synthesis.meta(yi, vi)
    assert found["pooled"]["estimate"] == pytest.approx(pooled.estimate, abs=1e-12)
    assert found["pooled"]["tau2"] == pytest.approx(pooled.tau2, abs=1e-12)

    moderators = {m["name"]: m for m in found["moderators"]}
    direct = synthesis.meta(yi, vi, moderators={VISION: [SITES[c][1][0] for c in codes]})
    vision = moderators[VISION]
    assert vision["analysed"] and vision["k"] == 5
    for ours, theirs in zip(vision["coefficients"], direct.coefficients, strict=True):
        for key in ("estimate", "se", "ci_low", "ci_high", "p"):
            assert ours[key] == pytest.approx(getattr(theirs, key), abs=1e-12)
    assert vision["tau2"] == pytest.approx(direct.tau2, abs=1e-12)
    assert vision["i2"] == pytest.approx(direct.i2, abs=1e-12)

    regions = synthesis.subgroups(yi, vi, [SITES[c][2] for c in codes])
    assert moderators["region"]["q_between_p"] == pytest.approx(regions.q_between_p, abs=1e-12)
    assert {g["name"] for g in moderators["region"]["groups"]} == set(regions.groups)

    # visible leaders: rated by 2 sites only; willingness to learn: 3 everywhere
    assert moderators[LEADERS]["reason"] == (
        "Only 2 of the 5 sites have a value; at least 3 sites are needed."
    )
    assert moderators[LEARN]["reason"] == "Every site with a value has the same one (3)."
    assert moderators["evidence of impact"]["reason"].startswith("Only 0 of the 5 sites")


def test_not_enough_sites(session) -> None:
    found = conditions.analyse_intervention(session, "two-site-model", INDICATOR)
    assert found["k"] == 2
    assert all(not m["analysed"] for m in found["moderators"])
    assert found["moderators"][0]["reason"] == (
        "Only 2 of the 2 sites have a value; at least 3 sites are needed."
    )
    assert "No moderator could be analysed here" in " ".join(found["what_it_can_tell"])


def test_same_data_and_seed_give_the_same_digest(session) -> None:
    once = conditions.analyse_intervention(session, "conditions-model", INDICATOR)
    again = conditions.analyse_intervention(session, "conditions-model", INDICATOR)
    assert once["digest"] == again["digest"]


def test_listing_and_refusals(session) -> None:
    listed = {i["id"]: i for i in conditions.site_comparisons(session)}
    assert listed["conditions-model"]["sites"] == 5
    assert "two-site-model" not in listed
    with pytest.raises(NotFound):
        conditions.analyse_intervention(session, "no-such-model")
    with pytest.raises(NotFound):
        conditions.analyse_intervention(session, "conditions-model", "no-such-indicator")
