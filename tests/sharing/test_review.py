"""Clerical review: a "not a match" decision splits a cluster and a "match" joins two, at
once, in the counts of the whole-system view (worked out by hand on five records); later
runs apply the decisions; the queue shows uncertain pairs first with their explanation,
read through one audit event; decisions are audited and need linked access."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from whatworks.core.audit import Actor
from whatworks.core.errors import PermissionDenied, WhatworksError
from whatworks.core.models import AuditEvent, User
from whatworks.sharing import review, runs, system
from whatworks.sharing.access import AgreementNeeded
from whatworks.sharing.models import Agreement, Partnership, ReviewDecision
from whatworks.sharing.synthetic import generate

PURPOSE = "Strategic needs assessment of children known to several agencies"
REFERENCE = date(2025, 3, 31)


def user(session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def tiny_run(session, tmp_path, builder, people, tiny):
    built = builder(session, tmp_path, tiny)
    partnership = session.get(Partnership, built.partnership_id)
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    session.commit()
    assert run.status == "done", run.error
    return built, run


def counts(session, tmp_path, run) -> tuple[int, dict[str, int], dict[tuple[str, str], int]]:
    found = system.compute(session, tmp_path, run, REFERENCE)
    return found.people, found.known_to, found.overlaps


def test_not_a_match_splits_and_match_joins_in_the_system_counts(
    session, tmp_path, tiny_run
) -> None:
    built, run = tiny_run
    linked = user(session, "linked")
    c2, h2, h3 = (
        built.record("council", "C2"),
        built.record("health", "H2"),
        built.record("health", "H3"),
    )
    # By hand: {C1, H1} Amelia, {C2, H2} Oliver, {H3} Isla.
    assert counts(session, tmp_path, run) == (
        3, {"1": 1, "2": 2, "3": 0, "4 or more": 0}, {("council", "health"): 2},
    )  # fmt: skip
    review.decide(session, tmp_path, linked, run, c2, h2, "not a match", "Different mothers")
    session.commit()
    # {C1, H1}, {C2}, {H2}, {H3}: four children, three known to one agency.
    assert counts(session, tmp_path, run) == (
        4, {"1": 3, "2": 1, "3": 0, "4 or more": 0}, {("council", "health"): 1},
    )  # fmt: skip
    assert (run.cluster_count, run.link_count) == (4, 1)
    review.decide(session, tmp_path, linked, run, h3, c2, "match", "Same child, new surname")
    session.commit()
    # {C1, H1}, {C2, H3}, {H2}: three children, two known to both agencies.
    assert counts(session, tmp_path, run) == (
        3, {"1": 1, "2": 2, "3": 0, "4 or more": 0}, {("council", "health"): 2},
    )  # fmt: skip
    found = system.compute(session, tmp_path, run, REFERENCE)
    # Ages at 31 March 2025: Amelia (May 2012) 12, Oliver (February 2019) 6, Isla (November
    # 2008) 16; Oliver (C2) now with Isla's record (H3): the most common birth month of the
    # two is the earlier, November 2008, so that child is 16.
    assert {band: row["all"] for band, row in found.by_age.items() if row["all"]} == {
        "10-15": 1, "16-17": 1, "5-9": 1,
    }  # fmt: skip
    stored = {
        (d.left_record, d.right_record): d.decision for d in session.scalars(select(ReviewDecision))
    }
    assert stored == {runs.ordered(c2, h2): "not a match", runs.ordered(h3, c2): "match"}
    decided = events(session, "decide review pair")
    assert [json.loads(e.detail)["decision"] for e in decided] == ["not a match", "match"]
    assert all(e.username == "linked" and "clerical review" in e.purpose for e in decided)


def test_a_later_run_applies_the_decisions(session, tmp_path, tiny_run) -> None:
    built, run = tiny_run
    c2, h2 = built.record("council", "C2"), built.record("health", "H2")
    review.decide(session, tmp_path, user(session, "linked"), run, c2, h2, "not a match")
    partnership = session.get(Partnership, built.partnership_id)
    later = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    assert later.status == "done"
    assert (later.cluster_count, later.link_count) == (4, 1)
    model = {(p["left_record"], p["right_record"]): p for p in runs.pairs(tmp_path, later)}
    assert model[c2, h2]["linked"]  # the model still links them; the decision unlinks them
    assert counts(session, tmp_path, later)[0] == 4


def test_a_decision_is_refused_outside_the_partnership_and_without_an_agreement(
    session, tmp_path, tiny_run
) -> None:
    built, run = tiny_run
    c1, h1 = built.record("council", "C1"), built.record("health", "H1")
    for who in ("outsider", "plain"):
        with pytest.raises(PermissionDenied):
            review.decide(session, tmp_path, user(session, who), run, c1, h1, "not a match")
    with pytest.raises(WhatworksError, match="must be one of match, not a match"):
        review.decide(session, tmp_path, user(session, "linked"), run, c1, h1, "maybe")
    with pytest.raises(WhatworksError, match="is not in linkage run"):
        review.decide(session, tmp_path, user(session, "linked"), run, c1, "0" * 20, "match")
    agreement = session.get(Agreement, built.agreement_id)
    agreement.status = "ended"
    with pytest.raises(AgreementNeeded):
        review.decide(session, tmp_path, user(session, "linked"), run, c1, h1, "not a match")
    assert session.scalar(select(func.count()).select_from(ReviewDecision)) == 0
    assert run.cluster_count == 3


@pytest.mark.slow
def test_the_queue_shows_the_most_uncertain_pairs_first_with_their_reasons(
    session, tmp_path, builder, people
) -> None:
    data = generate(300, seed=4, difficulty="hard", agencies=("council", "health"))
    built = builder(session, tmp_path, {a: data.rows(a) for a in ("council", "health")})
    partnership = session.get(Partnership, built.partnership_id)
    run = runs.run_linkage(session, tmp_path, Actor("cli"), partnership, [], PURPOSE)
    assert run.status == "done" and run.review_count > 0
    queue = review.review_queue(session, tmp_path, user(session, "linked"), run, limit=10)
    assert queue.waiting == run.review_count and queue.decided == 0
    assert 0 < len(queue.items) <= 10
    distances = [i.distance for i in queue.items]
    assert distances == sorted(distances)
    by_id = {r["record_id"]: r for a in ("council", "health") for r in data.rows(a)}
    pseudonym_to_id = {v: k for (_, k), v in built.pseudonyms.items()}
    for item in queue.items:
        assert item.prior_weight + sum(c["weight"] for c in item.explanation) == pytest.approx(
            item.match_weight
        )
        assert [c["comparison"] for c in item.explanation][:3] == ["first_name", "surname", "dob"]
        left = by_id[pseudonym_to_id[item.left.record]]
        assert item.left.fields is not None
        assert item.left.fields["first_name"] == left["first_name"]
        assert item.left.fields["record_id"] == left["record_id"]
    shown = events(session, "view review queue")
    assert len(shown) == 1 and shown[0].username == "linked"
    listed = json.loads(shown[0].detail)["pairs"]
    assert listed == [[i.left.record, i.right.record] for i in queue.items]
    # A decision moves the pair from waiting to decided.
    first = queue.items[0]
    review.decide(
        session, tmp_path, user(session, "linked"), run, first.left.record, first.right.record,
        "not a match",
    )  # fmt: skip
    again = review.review_queue(session, tmp_path, user(session, "linked"), run, limit=10)
    assert again.waiting == queue.waiting - 1 and again.decided == 1
    assert again.done[0].decision == "not a match"
    assert run.review_count == queue.waiting - 1


def test_the_queue_needs_linked_access(session, tmp_path, tiny_run) -> None:
    _, run = tiny_run
    with pytest.raises(PermissionDenied):
        review.review_queue(session, tmp_path, user(session, "outsider"), run)
    assert events(session, "view review queue") == []


def test_a_decision_rolled_back_leaves_the_clusters_as_they_were(
    session, sessions, tmp_path, tiny_run
) -> None:
    built, run = tiny_run
    linked = user(session, "linked")
    c2, h2 = built.record("council", "C2"), built.record("health", "H2")
    folder = runs.clusters_path(tmp_path, run).parent

    def people_in_file() -> int:
        return len({r["person"] for r in runs.clusters_of(tmp_path, run)})

    assert people_in_file() == 3
    review.decide(session, tmp_path, linked, run, c2, h2, "not a match")
    # Not yet committed: the run's counts have changed in this transaction, the clusters
    # file that everybody else reads has not, and another session sees the old clusters.
    assert run.cluster_count == 4 and people_in_file() == 3
    with sessions() as other:
        other_run = other.get(type(run), run.id)
        assert len({r["person"] for r in runs.clusters_of(tmp_path, other_run)}) == 3
    session.rollback()
    assert people_in_file() == 3
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []
    assert session.scalar(select(func.count()).select_from(ReviewDecision)) == 0
    # Two re-clusterings before a commit write to temporary files of their own.
    first = runs.recluster(session, tmp_path, run)
    second = runs.recluster(session, tmp_path, run)
    assert first != second and first.exists() and second.exists()
    session.rollback()
    assert not first.exists() and not second.exists()
    # Committed, the new clusters are in place.
    review.decide(session, tmp_path, linked, run, c2, h2, "not a match")
    session.commit()
    assert people_in_file() == 4
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_the_queue_needs_each_datasets_own_agreement(
    session, tmp_path, tiny_run, another_agreement
) -> None:
    built, run = tiny_run
    another_agreement(session, built, ["council", "health"])
    session.get(Agreement, built.agreement_id).status = "ended"
    with pytest.raises(AgreementNeeded, match="it is ended, not active"):
        review.review_queue(session, tmp_path, user(session, "linked"), run)
    assert events(session, "view review queue") == []
