"""The whole-system view: counts by hand on five records, small numbers suppressed and the
rest rounded on synthetic data, the partnership indicators written to outcomes, each view
audited, and refusals for people outside the partnership and without an agreement."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from whatworks.core.audit import Actor
from whatworks.core.errors import NotFound, PermissionDenied
from whatworks.core.models import AuditEvent, User
from whatworks.outcomes.models import ComputedValue
from whatworks.sharing import runs, system
from whatworks.sharing.access import AgreementNeeded
from whatworks.sharing.models import Agreement, Partnership
from whatworks.sharing.synthetic import generate

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
def synthetic_run(session, tmp_path, builder, people):
    data = generate(300, seed=5)
    built = builder(session, tmp_path, {a: data.rows(a) for a in system.AGENCY_ORDER[:4]})
    partnership = session.get(Partnership, built.partnership_id)
    run = runs.run_linkage(
        session, tmp_path, user(session, "linked"), partnership, [], PURPOSE, on=date(2025, 6, 1)
    )
    session.commit()
    assert run.status == "done", run.error
    return built, partnership, run


@pytest.mark.slow
def test_every_count_shown_is_suppressed_or_rounded(session, tmp_path, synthetic_run) -> None:
    _, partnership, run = synthetic_run
    view = system.whole_system(
        session, tmp_path, user(session, "linked"), partnership, reference=REFERENCE
    )
    found = system.compute(session, tmp_path, run, REFERENCE)
    tables = {t.id: t for t in view.tables}
    assert view.people.text == shown(found.people)
    known = [cells[0].text for _, cells in tables["known-to"].rows]
    assert known == [shown(found.known_to[k]) for k in system.KNOWN_TO] + [shown(found.people)]
    for ident, source in (("age", found.by_age), ("need", found.by_need)):
        for label, cells in tables[ident].rows:
            row = source[label]
            assert [c.text for c in cells] == [shown(row[k]) for k in (*system.KNOWN_TO, "all")]
    overlaps = [cells[0].text for _, cells in tables["overlaps"].rows]
    assert overlaps == [shown(n) for n in found.overlaps.values()]
    every = [c.text for t in view.tables for _, cells in t.rows for c in cells]
    assert "c" in every  # some small numbers are there to suppress
    assert all(t == "c" or t.replace(",", "").isdigit() for t in every)
    assert all(t in ("c", "0") or t.replace(",", "").endswith("0") for t in every)
    # The JSON holds only what the page shows.
    as_json = json.dumps(view.as_dict())
    odd = [n for n in found.known_to.values() if n % 10 and n > 5]
    assert odd and all(f'"{n}"' not in as_json for n in odd)


@pytest.mark.slow
def test_partnership_indicators_flow_into_outcomes(session, tmp_path, synthetic_run) -> None:
    _, _, run = synthetic_run
    found = system.compute(session, tmp_path, run)
    stored = {
        v.indicator_id: v
        for v in session.scalars(select(ComputedValue).where(ComputedValue.la_code == "E09000003"))
    }
    assert set(stored) == set(system.INDICATORS)
    period = runs.run_date(run).isoformat()
    assert all(v.period == period and v.source == "linked agency records" for v in stored.values())
    three = found.known_to["3"] + found.known_to["4 or more"]
    assert stored["sharing_known_to_3_or_more_agencies"].value == float(shown(three))
    council = found.by_agency["council"]
    both = found.overlaps[("council", "police")]
    police = stored["sharing_council_also_police_percent"]
    expected = Decimal(both * 100) / Decimal(council)
    assert police.value == float(expected.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    assert (police.numerator, police.denominator) == (both, council)
    two = found.people - found.known_to["1"]
    share = stored["sharing_known_to_2_or_more_percent"]
    assert share.value == float(
        (Decimal(two * 100) / found.people).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    )
    assert json.loads(share.provenance)["run_id"] == run.id


@pytest.mark.slow
def test_each_view_is_audited(session, tmp_path, synthetic_run) -> None:
    _, partnership, run = synthetic_run
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
