"""The whole-system view: counts by hand on five records, small numbers suppressed and the
rest rounded on synthetic data, the partnership indicators written to outcomes, each view
audited, and refusals for people outside the partnership and without an agreement."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from whatworks.core.audit import Actor
from whatworks.core.errors import NotFound, PermissionDenied
from whatworks.core.models import AuditEvent, User
from whatworks.outcomes.models import ComputedValue
from whatworks.sharing import runs, system
from whatworks.sharing.access import AgreementNeeded
from whatworks.sharing.models import AgencyDataset, Agreement, LinkRun, Partnership

PURPOSE = "Strategic needs assessment of children known to several agencies"
REFERENCE = date(2025, 3, 31)


def user(session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def shown(count: int) -> str:
    """The DfE's rule, as docs/methods/disclosure.md states it: 0 stays 0, 1 to 5 are c,
    the rest rounded to the nearest 10, halves up."""
    if count == 0:
        return "0"
    if count <= 5:
        return "c"
    rounded = int((Decimal(count) / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 10
    return f"{rounded:,}"


def _numbers(found: object) -> set[float]:
    """Every number in a piece of JSON, and every text that reads as one."""
    if isinstance(found, bool):
        return set()
    if isinstance(found, int | float):
        return {float(found)}
    if isinstance(found, str):
        try:
            return {float(found.replace(",", "").rstrip("%"))}
        except ValueError:
            return set()
    if isinstance(found, dict):
        return set().union(*(_numbers(v) for v in found.values())) if found else set()
    if isinstance(found, list | tuple):
        return set().union(*(_numbers(v) for v in found)) if found else set()
    return set()


def facts(count: int, agencies: tuple[str, ...], start: int) -> list[system.PersonFacts]:
    return [
        system.PersonFacts(f"p{start + i}", agencies, "10-15", "N12", ("CIN",))
        for i in range(count)
    ]


def test_no_exact_small_count_or_base_leaves_the_view_or_outcomes(session) -> None:
    # By hand: 23 children, 3 known only to the council, 20 to the council and the police.
    # "Known to 1 agency" is 3, shown c; the share known to 2 or more, 20 of 23 (87.0%),
    # would give the 3 away beside the rounded total, so it is withheld too, as is 20 of
    # the council's 23 also known to the police.
    found = system.tally(
        facts(3, ("council",), 0) + facts(20, ("council", "police"), 3), ("council", "police")
    )
    assert (found.people, found.known_to["1"], found.known_to["2"]) == (23, 3, 20)
    partnership = Partnership(
        id=90, name="Hand-made partnership", la_code="E09000003", created_by="test"
    )
    run = LinkRun(
        id=91, partnership_id=90, status="done", started_at=datetime(2025, 6, 1, 9),
        finished_at=datetime(2025, 6, 1, 9, 5),
    )  # fmt: skip
    view = system.controlled_view(partnership, run, found, REFERENCE)
    indicators = {i.id: (i.value, i.status) for i in view.indicators}
    assert indicators == {
        "sharing_known_to_3_or_more_agencies": (0.0, "value"),
        "sharing_known_to_2_or_more_percent": (None, "c"),
        "sharing_council_also_police_percent": (None, "c"),
    }
    as_json = view.as_dict()
    numbers = _numbers(as_json["tables"]) | _numbers(as_json["indicators"])
    numbers |= _numbers(as_json["people"])
    assert not numbers & {1.0, 2.0, 3.0, 4.0, 5.0, 23.0}
    assert not {87.0, 13.0} & numbers  # 20 / 23 and 3 / 23 as percentages
    text = json.dumps(as_json)
    assert "numerator" not in text and "denominator" not in text
    session.add(partnership)
    session.flush()
    assert system.store_indicators(session, partnership, run, found) == 3
    stored = list(
        session.scalars(select(ComputedValue).where(ComputedValue.la_code == "E09000003"))
    )
    assert {(v.indicator_id, v.value, v.status) for v in stored} == {
        ("sharing_known_to_3_or_more_agencies", 0.0, "value"),
        ("sharing_known_to_2_or_more_percent", None, "c"),
        ("sharing_council_also_police_percent", None, "c"),
    }
    assert all(v.numerator is None and v.denominator is None for v in stored)


def test_a_percentage_is_withheld_when_the_rest_of_the_base_is_small() -> None:
    # 95 of 100: the 5 not in it would be known; 94 of 100 leaves 6, shown as 94.0%.
    assert system.percentage(95, 100) == (None, "c")
    assert system.percentage(94, 100) == (94.0, "value")
    assert system.percentage(100, 100) == (100.0, "value")  # nobody left out
    assert system.percentage(3, 100) == (None, "c")
    assert system.percentage(8, 10) == (None, "low")  # a base under 11


def test_the_age_reference_is_the_runs_date_or_a_months_end() -> None:
    run_day = date(2025, 6, 12)
    assert system.check_reference(None, run_day) == run_day
    assert system.check_reference(run_day, run_day) == run_day
    assert system.check_reference(date(2024, 2, 29), run_day) == date(2024, 2, 29)
    assert system.check_reference(date(2025, 3, 31), run_day) == date(2025, 3, 31)
    for refused in (date(2025, 3, 30), date(2024, 2, 28), date(2025, 6, 11)):
        with pytest.raises(system.ReferenceRefused, match="last day of a month"):
            system.check_reference(refused, run_day)


def test_age_bands_from_the_month_of_birth() -> None:
    # Born in the month, taken as its 1st: on 31 March 2025 a child born in April 2020 is 4,
    # one born in March 2020 is 5; born April 2007, 17; March 2007, 18.
    assert system.age_band("2020-04", REFERENCE) == "0-4"
    assert system.age_band("2020-03", REFERENCE) == "5-9"
    assert system.age_band("2015-04", REFERENCE) == "5-9"
    assert system.age_band("2015-03", REFERENCE) == "10-15"
    assert system.age_band("2009-03", REFERENCE) == "16-17"
    assert system.age_band("2007-04", REFERENCE) == "16-17"
    assert system.age_band("2007-03", REFERENCE) == "18+"
    assert system.age_band(None, REFERENCE) == "not known"
    assert system.age_band("2026-01", REFERENCE) == "not known"


def test_counts_by_hand_on_five_records(session, tmp_path, builder, people, tiny) -> None:
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    found = system.compute(session, tmp_path, run, REFERENCE)
    # Amelia (C1 + H1: CIN, CP, MH; N12; 12), Oliver (C2 + H2: CIN; N3; 6), Isla (H3: MH;
    # NW9; 16).
    assert found.people == 3
    assert found.by_agency == {"council": 2, "health": 3}
    assert found.overlaps == {("council", "health"): 2}
    assert {k: v["all"] for k, v in found.by_district.items()} == {"N12": 1, "N3": 1, "NW9": 1}
    assert {k: (v["1"], v["2"]) for k, v in found.by_need.items()} == {
        "CIN": (0, 2), "CP": (0, 1), "MH": (1, 1),
    }  # fmt: skip
    assert {k: v["all"] for k, v in found.by_age.items() if v["all"]} == {
        "10-15": 1, "5-9": 1, "16-17": 1,
    }  # fmt: skip
    view = system.controlled_view(partnership, run, found, REFERENCE)
    assert view.people.text == "c"  # 3 children: suppressed
    known = {label: cells[0].text for label, cells in view.tables[0].rows}
    assert known == {
        "Known to 1 agency": "c", "Known to 2 agencies": "c", "Known to 3 agencies": "0",
        "Known to 4 or more agencies": "0", "All children": "c",
    }  # fmt: skip


@pytest.fixture
def grouped_run(session, tmp_path, builder, people, grouped):
    """The 41 hand-made children of `conftest.grouped_rows` linked across four agencies."""
    built = builder(session, tmp_path, grouped)
    partnership = session.get(Partnership, built.partnership_id)
    run = runs.run_linkage(
        session, tmp_path, user(session, "linked"), partnership, [], PURPOSE, on=date(2025, 6, 1)
    )
    session.commit()
    assert run.status == "done", run.error
    return built, partnership, run


@pytest.mark.slow
def test_every_count_shown_is_suppressed_or_rounded(session, tmp_path, grouped_run) -> None:
    _, partnership, _run = grouped_run
    view = system.whole_system(
        session, tmp_path, user(session, "linked"), partnership, reference=REFERENCE
    )
    tables = {t.id: t for t in view.tables}
    # By hand (conftest.GROUPS): 47 children; 8 + 7 known to one agency, 14 to two, 12 to
    # three, 6 to all four.
    assert view.people.text == "50" == shown(47)
    known = [cells[0].text for _, cells in tables["known-to"].rows]
    assert known == ["20", "10", "10", "10", "50"]
    agencies = {label: cells[0].text for label, cells in tables["agencies"].rows}
    # council 40, schools 18, health 13, police 32
    assert agencies == {
        "Council social care": "40", "Schools": "20", "Health": "10", "Police": "30",
    }  # fmt: skip
    overlaps = {label: cells[0].text for label, cells in tables["overlaps"].rows}
    # council and police 32, council and schools 18, police and schools 18, health and
    # each of the others 6
    assert overlaps == {
        "Council social care and schools": "20", "Council social care and health": "10",
        "Council social care and police": "30", "Schools and health": "10",
        "Schools and police": "20", "Health and police": "10",
    }  # fmt: skip
    every = [c.text for t in view.tables for _, cells in t.rows for c in cells]
    assert "c" in every  # some small numbers are there to suppress (by district, by age)
    assert all(t == "c" or t.replace(",", "").isdigit() for t in every)
    assert all(t in ("c", "0") or t.replace(",", "").endswith("0") for t in every)
    # The indicators: 18 known to 3 or more (shown 20); 32 of 47 known to 2 or more,
    # 68.09% (the rest of the base, 15, is not small); 32 of the council's 40 also known
    # to the police, 80%.
    assert [(i.id, i.value, i.status) for i in view.indicators] == [
        ("sharing_known_to_3_or_more_agencies", 20.0, "value"),
        ("sharing_known_to_2_or_more_percent", 68.1, "value"),
        ("sharing_council_also_police_percent", 80.0, "value"),
    ]
    # The JSON holds only what the page shows: none of the exact counts that are not
    # multiples of 10.
    as_json = view.as_dict()
    numbers = _numbers(as_json["tables"]) | _numbers(as_json["indicators"])
    numbers |= _numbers(as_json["people"])
    assert not numbers & {6, 7, 8, 12, 13, 14, 15, 18, 32, 47}
    assert "numerator" not in json.dumps(as_json) and "denominator" not in json.dumps(as_json)


@pytest.mark.slow
def test_partnership_indicators_flow_into_outcomes(session, tmp_path, grouped_run) -> None:
    _, partnership, run = grouped_run
    stored = {
        v.indicator_id: v
        for v in session.scalars(select(ComputedValue).where(ComputedValue.la_code == "E09000003"))
    }
    assert set(stored) == set(system.INDICATORS)
    period = runs.run_date(run).isoformat()
    assert all(v.period == period and v.source == "linked agency records" for v in stored.values())
    # By hand, as above: 18 -> 20; 32 of 47 = 68.1%; 32 of 40 = 80%. No counts are kept.
    assert {k: (v.value, v.status) for k, v in stored.items()} == {
        "sharing_known_to_3_or_more_agencies": (20.0, "value"),
        "sharing_known_to_2_or_more_percent": (68.1, "value"),
        "sharing_council_also_police_percent": (80.0, "value"),
    }
    assert all(v.numerator is None and v.denominator is None for v in stored.values())
    origin = json.loads(stored["sharing_known_to_2_or_more_percent"].provenance)
    assert origin["run_id"] == run.id and origin["partnership_id"] == partnership.id


@pytest.mark.slow
def test_each_view_is_audited(session, tmp_path, grouped_run) -> None:
    _, partnership, run = grouped_run
    for _ in range(2):
        system.whole_system(session, tmp_path, user(session, "linked"), partnership)
    viewed = list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "view whole-system view"))
    )
    assert [(e.username, e.target) for e in viewed] == [
        ("linked", f"sharing partnership:{partnership.id}")
    ] * 2
    assert all(json.loads(e.detail)["run"] == run.id for e in viewed)


def test_the_view_is_refused_outside_the_partnership_and_without_an_agreement(
    session, tmp_path, builder, people, tiny
) -> None:
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    with pytest.raises(NotFound, match="no finished linkage run"):
        system.whole_system(session, tmp_path, user(session, "linked"), partnership)
    runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    for who in ("outsider", "plain"):
        with pytest.raises(PermissionDenied):
            system.whole_system(session, tmp_path, user(session, who), partnership)
    session.get(Agreement, built.agreement_id).status = "ended"
    with pytest.raises(AgreementNeeded, match="it is ended, not active"):
        system.whole_system(session, tmp_path, user(session, "linked"), partnership)
    assert not list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "view whole-system view"))
    )


def test_no_indicators_into_outcomes_for_a_demo_partnership(
    session, tmp_path, builder, people, tiny
) -> None:
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    partnership.is_demo = True
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    assert run.status == "done"
    assert system.publish(session, tmp_path, run) == 0
    assert not session.scalars(select(ComputedValue)).all()


def test_another_partnerships_indicators_are_not_overwritten(
    session, tmp_path, builder, people, tiny
) -> None:
    first = builder(session, tmp_path, tiny)
    second = builder(session, tmp_path, tiny, name="Another Barnet partnership")
    one = session.get(Partnership, first.partnership_id)
    two = session.get(Partnership, second.partnership_id)
    runs.run_linkage(session, tmp_path, Actor("cli"), one, [], PURPOSE)
    later = runs.run_linkage(session, tmp_path, Actor("cli"), two, [], PURPOSE)
    assert later.status == "done"  # the run stands; its indicators are not written
    stored = list(session.scalars(select(ComputedValue)))
    assert len(stored) == 3
    assert {json.loads(v.provenance)["partnership_id"] for v in stored} == {one.id}
    with pytest.raises(system.IndicatorConflict, match=f"from partnership {one.id}"):
        system.publish(session, tmp_path, later)


def test_the_view_needs_each_datasets_own_agreement(
    session, tmp_path, builder, people, tiny, another_agreement
) -> None:
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    session.commit()
    # The datasets' agreement ends; a newer agreement in force does not stand in for it.
    another_agreement(session, built, ["council", "health"])
    session.get(Agreement, built.agreement_id).status = "ended"
    health = session.get(AgencyDataset, built.datasets["health"])
    with pytest.raises(AgreementNeeded, match=f"dataset {health.id} .*it is ended, not active"):
        system.whole_system(session, tmp_path, user(session, "linked"), partnership)
