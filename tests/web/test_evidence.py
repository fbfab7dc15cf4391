"""The evidence hub's pages and their JSON twins on a seeded store: interventions, studies
and their results, CSV in and out, overrides and the failure library. Expected values come
from the bundled sources (Social Workers in Schools: a cluster trial found no improvement,
so "do not offer" by the rule in docs/methods/recommendations.md) and from hand
calculations written in the tests."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user
from whatworks.core.db import transaction
from whatworks.core.models import AuditEvent
from whatworks.evidence import hub, seed, tracker
from whatworks.evidence.models import RecommendationOverride, Study, StudyResult

PASSWORD = "a long test password"
SWIS = "social-workers-in-schools"
SWIS_PRIMARY = "Child protection (section 47) enquiries (primary)"
DEMO = seed.DEMO_INTERVENTION


def as_json(value: object) -> object:
    """A value as it comes back from the API (tuples become lists)."""
    return json.loads(json.dumps(value))


def count(sessions, model) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def hub_store(sessions) -> None:
    """The bundled evidence, the demo studies, a researcher and a member."""
    with transaction(sessions) as session:
        seed.seed(session)
        seed.seed_demo(session)
        create_user(session, "researcher", PASSWORD, "researcher", "Rowan Researcher")
        create_user(session, "member", PASSWORD, "member", "Mo Member")


def demo_study_id(sessions, title: str) -> int:
    with sessions() as session:
        return int(session.scalar(select(Study.id).where(Study.title == title)) or 0)


# ---------------------------------------------------------------------------------------
# reads


def test_list_shows_each_intervention_with_its_headline(client, hub_store, sessions) -> None:
    page = client.get("/evidence")
    assert page.status_code == 200
    assert "Social Workers in Schools" in page.text and "Pause" in page.text
    assert 'href="/evidence"' in page.text  # the nav item
    listed = client.get("/api/evidence/interventions").json()
    with sessions() as session:
        for item in listed:
            best = hub.assess(session, item["id"]).headline()
            assert (item["headline"] or {}).get("level") == (best.level.level if best else None)
    swis = next(i for i in listed if i["id"] == SWIS)
    # its best outcome is the pilots' "evidence of promise" (NL2); the trial's null on the
    # primary outcome is listed beside it, not hidden
    assert swis["headline"]["level"] == "NL2"
    assert SWIS_PRIMARY in swis["headline"]["not_effective"]
    assert "found not effective on 2 other outcomes" in page.text
    found = client.get("/api/evidence/interventions?q=pause").json()
    assert {i["id"] for i in found} >= {"pause", "birmingham-pause-drop-in"}
    assert "mockingbird" not in {i["id"] for i in found}
    searched = client.get("/evidence?q=pause")
    assert "Pause" in searched.text and "Mockingbird" not in searched.text


def test_a_rigorous_null_gives_ne_and_do_not_offer_on_page_and_json(
    client, hub_store, sessions
) -> None:
    api = client.get(f"/api/evidence/interventions/{SWIS}").json()
    with sessions() as session:
        expected = hub.assess(session, SWIS).as_dict()
    for key, value in expected.items():
        assert api[key] == as_json(value), key
    primary = next(o for o in api["outcomes"] if o["outcome"] == SWIS_PRIMARY)
    # docs/methods/evidence-ratings.md: a rigorous null with no rigorous positive is NE
    assert primary["level"]["level"] == "NE" and primary["level"]["rule"] == "not-effective"
    # docs/methods/recommendations.md: NE is "do not offer", rule not-effective
    assert primary["recommendation"]["wording"] == "do not offer"
    assert primary["recommendation"]["rule"] == "not-effective"
    page = client.get(f"/evidence/interventions/{SWIS}")
    assert page.status_code == 200
    assert "Do not offer Social Workers in Schools" in page.text
    assert "<code>not-effective</code>" in page.text
    # one effect on the primary outcome: a single study's table, no forest plot
    assert "Study effect" in page.text and 'class="ww-forest"' not in page.text
    # the cluster trial's +5.5% rate ratio (1.055) as published, back from the log scale
    assert re.search(r"RR 1\.05\d? \(95% CI 0\.9[56] to 1\.1[67]\)", page.text)
    assert "Null and negative results" in page.text


def test_pause_json_equals_the_hub(client, hub_store, sessions) -> None:
    api = client.get("/api/evidence/interventions/pause").json()
    with sessions() as session:
        expected = as_json(hub.assess(session, "pause").as_dict())
    assert {k: api[k] for k in expected} == expected
    assert api["intervention"]["name"] == "Pause"
    assert {o["level"]["level"] for o in api["outcomes"]} == {"2"}
    page = client.get("/evidence/interventions/pause")
    assert "What must stay the same" in page.text and "Sites" in page.text


def test_demo_intervention_has_forest_and_funnel_plots_and_is_labelled(client, hub_store) -> None:
    page = client.get(f"/evidence/interventions/{DEMO}")
    assert page.status_code == 200
    assert "Demo data" in page.text
    assert 'class="ww-forest"' in page.text and 'class="ww-funnel"' in page.text
    # Northtown: 60 of 400 vs 90 of 400. RR = 0.15 / 0.225 = 0.667; var(log RR) =
    # 1/60 - 1/400 + 1/90 - 1/400 = 0.022778, se 0.1509; CI exp(-0.4055 -+ 1.96 x 0.1509)
    assert "RR 0.67 (95% CI 0.50 to 0.90)" in page.text
    # the quasi-experiment is set aside from the pooled randomised trials, and says so
    assert "not in the plot (not pooled)" in page.text
    # the demo council's project links to its place
    assert 'href="/places/E09000003"' in page.text
    # cost: £750 per child is Foundations cost rating 3 (£500 to £999)
    assert "3 of 5" in page.text and "£750 per child" in page.text


def test_failure_library_page_json_and_search(client, hub_store, sessions) -> None:
    api = client.get("/api/evidence/failures").json()
    with sessions() as session:
        assert api == as_json([f.as_dict() for f in tracker.failure_library(session)])
    assert {f["direction"] for f in api} <= {"null", "negative", "stopped"}
    assert any(f["intervention_id"] == SWIS for f in api)
    page = client.get("/evidence/failures")
    assert page.status_code == 200 and "Social Workers in Schools" in page.text
    searched = client.get("/api/evidence/failures?q=section 47").json()
    assert searched and all("47" in f["outcome"] + f["reported"] for f in searched)
    assert client.get("/evidence/failures?q=zzzz-nothing").text.count("Nothing matches") == 1


def test_study_page_and_json(client, hub_store, sessions) -> None:
    study_id = demo_study_id(sessions, "Family network meetings in Northtown (demo)")
    page = client.get(f"/evidence/studies/{study_id}")
    assert page.status_code == 200
    assert "Demo data" in page.text and "RR 0.67 (95% CI 0.50 to 0.90)" in page.text
    assert "60 of 400 vs 90 of 400" in page.text
    api = client.get(f"/api/evidence/studies/{study_id}").json()
    (result,) = api["results"]
    assert result["yi"] == pytest.approx(math.log(0.15 / 0.225), abs=1e-12)
    se = math.sqrt(1 / 60 - 1 / 400 + 1 / 90 - 1 / 400)
    assert result["ci_low"] == pytest.approx(math.log(0.15 / 0.225) - 1.959964 * se, abs=1e-6)
    assert result["direction"] == "positive" and api["is_demo"] is True


def test_unknown_addresses_are_404(client, hub_store) -> None:
    assert client.get("/evidence/interventions/no-such-thing").status_code == 404
    assert client.get("/api/evidence/interventions/no-such-thing").status_code == 404
    assert client.get("/evidence/studies/999999").status_code == 404
    assert client.get("/api/evidence/studies/999999").json()["error"] == "Page not found"
    assert client.get("/evidence/studies.csv?intervention=no-such-thing").status_code == 404


# ---------------------------------------------------------------------------------------
# who may write


def test_visitors_are_sent_to_sign_in_and_members_refused(
    client, hub_store, sign_in, csrf_from, sessions
) -> None:
    for path in ("/evidence/studies/new", "/evidence/studies/import"):
        sent = client.get(path, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == f"/sign-in?next={path}"
    posted = client.post("/evidence/studies/new", data={"title": "x"}, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"].startswith("/sign-in")
    assert "Override this recommendation" not in client.get(f"/evidence/interventions/{SWIS}").text
    sign_in(client, "member", PASSWORD)
    assert client.get("/evidence/studies/new").status_code == 403
    assert client.get("/evidence/studies/import").status_code == 403
    study_id = demo_study_id(sessions, "Family network meetings in Northtown (demo)")
    token = csrf_from(client.get("/sign-out").text)  # the sign-out form carries the token
    before = count(sessions, StudyResult)
    refused = client.post(
        f"/evidence/studies/{study_id}/results",
        data={"csrf_token": token, "outcome": "x", "direction": "null"},
    )
    assert refused.status_code == 403
    assert count(sessions, StudyResult) == before


# ---------------------------------------------------------------------------------------
# study and result entry


def test_study_entry_shows_every_error_and_stores_nothing(
    client, hub_store, sign_in, csrf_from, sessions
) -> None:
    sign_in(client, "researcher", PASSWORD)
    form = client.get("/evidence/studies/new")
    assert form.status_code == 200
    token = csrf_from(form.text)
    before = count(sessions, Study)
    bad = client.post(
        "/evidence/studies/new",
        data={"csrf_token": token, "title": "", "design": "", "year": "20x", "sample_size": "-4"},
    )
    assert bad.status_code == 400
    assert "There is a problem" in bad.text and "<title>Error:" in bad.text
    for message in (
        "Enter the study&#39;s title as published",
        "Choose the Maryland level of the design",
        "The year must be a whole number",
        "-4 is not a number of participants",
    ):
        assert message in bad.text, message
    assert 'href="#title"' in bad.text and 'id="year-error"' in bad.text
    assert count(sessions, Study) == before
    made = client.post(
        "/evidence/studies/new",
        data={
            "csrf_token": token,
            "title": "Family group conferences in Anytown",
            "intervention_id": SWIS,
            "design": "RCT",
            "maryland_level": "5",
            "year": "2024",
            "independent": "yes",
            "sample_size": "400",
            "confidence": "high",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert count(sessions, Study) == before + 1
    page = client.get(made.headers["location"])
    assert "Family group conferences in Anytown" in page.text and "Add a result" in page.text


def test_result_entry_from_raw_counts_with_errors_first(
    client, hub_store, sign_in, csrf_from, sessions
) -> None:
    sign_in(client, "researcher", PASSWORD)
    study_id = demo_study_id(sessions, "Family network meetings in Northtown (demo)")
    page = client.get(f"/evidence/studies/{study_id}")
    token = csrf_from(page.text)
    before = count(sessions, StudyResult)
    base = {"csrf_token": token, "direction": "null", "how": "counts", "metric": "RR"}
    bad = client.post(
        f"/evidence/studies/{study_id}/results",
        data={**base, "outcome": "", "counts-ai": "ten", "counts-bi": "90", "counts-ci": "12"},
    )
    assert bad.status_code == 400
    assert "Enter the outcome the result is about" in bad.text
    assert "must be a number" in bad.text  # ai
    assert "Enter the comparison group: without the outcome" in bad.text  # di missing
    assert 'href="#counts-ai"' in bad.text and 'value="ten"' in bad.text
    # a 2x2 table cannot give a standardised mean difference: the domain says why
    wrong = client.post(
        f"/evidence/studies/{study_id}/results",
        data={
            **base,
            "metric": "SMD",
            "outcome": "Re-referral",
            **{f"counts-{k}": v for k, v in (("ai", "10"), ("bi", "90"), ("ci", "12"))},
            "counts-di": "88",
        },
    )
    assert wrong.status_code == 400 and "a 2x2 table gives RR, OR or RD" in wrong.text
    assert count(sessions, StudyResult) == before
    good = client.post(
        f"/evidence/studies/{study_id}/results",
        data={
            **base,
            "outcome": "Re-referral within 12 months",
            **{f"counts-{k}": v for k, v in (("ai", "10"), ("bi", "90"), ("ci", "12"))},
            "counts-di": "88",
            "reported": "10 of 100 vs 12 of 100 re-referred (demo)",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert count(sessions, StudyResult) == before + 1
    api = client.get(f"/api/evidence/studies/{study_id}").json()
    added = next(r for r in api["results"] if r["outcome"] == "Re-referral within 12 months")
    # log RR = log(0.10 / 0.12); var = 1/10 - 1/100 + 1/12 - 1/100
    assert added["yi"] == pytest.approx(math.log(0.10 / 0.12), abs=1e-12)
    assert added["vi"] == pytest.approx(1 / 10 - 1 / 100 + 1 / 12 - 1 / 100, abs=1e-12)
    assert added["direction"] == "null"
    with sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent))]
    assert "enter study result" in actions


def test_effect_entered_directly(client, hub_store, sign_in, csrf_from, sessions) -> None:
    sign_in(client, "researcher", PASSWORD)
    study_id = demo_study_id(sessions, "Family network meetings in Southby (demo)")
    token = csrf_from(client.get(f"/evidence/studies/{study_id}").text)
    sent = client.post(
        f"/evidence/studies/{study_id}/results",
        data={
            "csrf_token": token,
            "outcome": "School attendance",
            "direction": "negative",
            "how": "direct",
            "metric": "SMD",
            "direct-yi": "-0.2",
            "direct-vi": "0.01",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    page = client.get(f"/evidence/studies/{study_id}")
    # g -0.2 with se 0.1: -0.2 -+ 1.96 x 0.1
    assert "SMD -0.20 (95% CI -0.40 to -0.00)" in page.text
    assert "govuk-tag--red" in page.text  # the negative result, shown as a tag like the rest


# ---------------------------------------------------------------------------------------
# CSV


def test_csv_export_of_one_intervention(client, hub_store) -> None:
    sent = client.get(f"/evidence/studies.csv?intervention={DEMO}")
    assert sent.status_code == 200 and sent.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sent.text)))
    assert {r["intervention"] for r in rows} == {DEMO}
    northtown = next(r for r in rows if r["title"] == "Family network meetings in Northtown (demo)")
    assert (northtown["ai"], northtown["bi"], northtown["ci"], northtown["di"]) == (
        "60.0",
        "340.0",
        "90.0",
        "310.0",
    )
    everything = list(csv.DictReader(io.StringIO(client.get("/evidence/studies.csv").text)))
    assert len(everything) > len(rows)


GOOD_CSV = """study_ref,intervention,title,year,design,maryland_level,outcome,direction,\
metric,ai,bi,ci,di
A,pause,Pause in Anytown,2024,RCT,5,Infant entry to care,null,RR,5,95,6,94
A,pause,Pause in Anytown,2024,RCT,5,Repeat pregnancy,positive,,,,,
"""
BAD_CSV = """study_ref,intervention,title,year,design,maryland_level,outcome,direction
A,no-such-intervention,Pause in Anytown,2024,RCT,six,Infant entry to care,sideways
B,pause,,2024,RCT,5,Repeat pregnancy,null
"""


def upload(client, csrf_from, name: str, text: str):
    token = csrf_from(client.get("/evidence/studies/import").text)
    return client.post(
        "/evidence/studies/import",
        data={"csrf_token": token},
        files={"file": (name, text.encode("utf-8"), "text/csv")},
    )


def test_csv_import_lists_every_problem_and_stores_nothing(
    client, hub_store, sign_in, csrf_from, sessions
) -> None:
    sign_in(client, "researcher", PASSWORD)
    before = (count(sessions, Study), count(sessions, StudyResult))
    bad = upload(client, csrf_from, "bad.csv", BAD_CSV)
    assert bad.status_code == 400
    assert "bad.csv was not imported" in bad.text and "Nothing from the file was stored" in bad.text
    cells = re.findall(
        r'<td class="govuk-table__cell govuk-table__cell--numeric">(\d+)</td>'
        r'<td class="govuk-table__cell">([^<]*)</td>',
        bad.text,
    )
    assert ("2", "maryland_level") in cells
    assert ("2", "intervention") in cells
    assert ("2", "direction") in cells
    assert ("3", "title") in cells
    assert "give a whole number from 1 to 5" in bad.text
    assert (count(sessions, Study), count(sessions, StudyResult)) == before
    empty = upload(client, csrf_from, "empty.csv", "title,design,maryland_level,outcome\n")
    assert empty.status_code == 400 and "The file has no rows" in empty.text
    assert 'id="file-error"' in empty.text  # a problem with no row is the file field's
    good = upload(client, csrf_from, "good.csv", GOOD_CSV)
    assert good.status_code == 200
    assert "good.csv: 1 study and 2 results imported" in good.text
    assert (count(sessions, Study), count(sessions, StudyResult)) == (before[0] + 1, before[1] + 2)


def test_csv_import_refuses_a_file_that_is_not_utf8(
    client, hub_store, sign_in, csrf_from, sessions
) -> None:
    sign_in(client, "researcher", PASSWORD)
    token = csrf_from(client.get("/evidence/studies/import").text)
    sent = client.post(
        "/evidence/studies/import",
        data={"csrf_token": token},
        files={"file": ("old.csv", "title\nCaf\xe9".encode("latin-1"), "text/csv")},
    )
    assert sent.status_code == 400 and "is not UTF-8 text" in sent.text
    assert 'id="file-error"' in sent.text


# ---------------------------------------------------------------------------------------
# overrides


def test_override_needs_a_reason_and_shows_with_its_history(
    client, hub_store, sign_in, csrf_from, sessions
) -> None:
    sign_in(client, "researcher", PASSWORD)
    page = client.get(f"/evidence/interventions/{SWIS}")
    assert "Override this recommendation" in page.text
    path = f"/evidence/interventions/{SWIS}/outcomes/{SWIS_PRIMARY}/override"
    form = client.get(path)
    assert form.status_code == 200 and "The rule <code>not-effective</code>" in form.text
    token = csrf_from(form.text)
    refused = client.post(path, data={"csrf_token": token, "wording": "only in research"})
    assert refused.status_code == 400
    assert "Enter the reason for the override" in refused.text
    assert count(sessions, RecommendationOverride) == 0
    done = client.post(
        path,
        data={
            "csrf_token": token,
            "wording": "only in research",
            "reason": "A follow-up trial in primary schools is under way.",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = client.get(f"/evidence/interventions/{SWIS}").text
    assert "Overridden by researcher" in shown
    assert "A follow-up trial in primary schools is under way." in shown
    assert "The rule alone gives “do not offer”" in shown
    api = client.get(f"/api/evidence/interventions/{SWIS}").json()
    primary = next(o for o in api["outcomes"] if o["outcome"] == SWIS_PRIMARY)
    assert primary["recommendation"]["wording"] == "only in research"
    assert primary["recommendation"]["derived_wording"] == "do not offer"
    withdrawn = client.post(
        path,
        data={"csrf_token": token, "wording": "withdraw", "reason": "The trial was cancelled."},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    with sessions() as session:
        now = hub.assess(session, SWIS).outcome(SWIS_PRIMARY).recommendation
        history = hub.override_history(session, SWIS, SWIS_PRIMARY)
    assert now.wording == "do not offer" and now.override is None
    assert [h.wording for h in history] == ["only in research", None]
    shown = client.get(f"/evidence/interventions/{SWIS}").text
    assert "override withdrawn" in shown and "The trial was cancelled." in shown


def test_override_of_an_outcome_with_a_slash_in_its_name(client, hub_store, sign_in) -> None:
    sign_in(client, "researcher", PASSWORD)
    form = client.get(
        "/evidence/interventions/family-safeguarding/outcomes/Adult%2Ffamily service use/override"
    )
    assert form.status_code == 200 and "Adult/family service use" in form.text
    missing = client.get("/evidence/interventions/family-safeguarding/outcomes/Nothing/override")
    assert missing.status_code == 404
