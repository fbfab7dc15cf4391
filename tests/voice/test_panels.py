"""Panels on the real store: a commitment moves proposed -> agreed -> in progress -> done with
an audit entry and a history row at each step; explained needs an explanation; illegal moves,
bad points and other councils are refused with nothing stored; the demo seeds once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import transaction
from whatworks.core.errors import PermissionDenied
from whatworks.core.models import AuditEvent, User
from whatworks.voice import demo, panels
from whatworks.voice.models import Commitment, CommitmentChange, Panel, PanelPoint

PASSWORD = "a long test password"
POINT = panels.NewPoint(
    date(2025, 3, 1), "We want to see our social worker alone.",
    "We will offer time alone at every visit.", "Head of service", date(2025, 6, 30),
)  # fmt: skip


def count(sessions, model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def made(sessions) -> tuple[int, int]:
    """Barnet's panel with one proposed commitment, a Barnet member and a Leeds member."""
    with transaction(sessions) as session:
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        leeds = get_or_create_organisation(session, "Leeds City Council", "council")
        user = create_user(session, "barnet", PASSWORD, "member", organisation=barnet)
        create_user(session, "leeds", PASSWORD, "member", organisation=leeds)
        panel = panels.create_panel(
            session, user, barnet, "Children in care council", "children in care"
        )
        commitment = panels.add_point(session, user, panel, POINT)
        return panel.id, commitment.id


def user(session, name: str) -> User:
    found = session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def move(sessions, commitment_id: int, to: str, note: str = "", who: str = "barnet") -> None:
    with transaction(sessions) as session:
        commitment = session.get(Commitment, commitment_id)
        panels.change_status(session, user(session, who), commitment, to, note)


def audited(sessions, commitment_id: int) -> list[str]:
    with sessions() as session:
        found = session.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.target == f"commitment:{commitment_id}",
                AuditEvent.action == "change commitment status",
            )
        )
        return list(found)


def test_a_commitment_moves_to_done_with_an_audit_trail(sessions, made) -> None:
    _, commitment_id = made
    for n, to in enumerate(("agreed", "in progress", "done"), start=1):
        move(sessions, commitment_id, to, f"step {n}")
        assert len(audited(sessions, commitment_id)) == n
        assert count(sessions, CommitmentChange) == n + 1  # and the row when it was made
    with sessions() as session:
        commitment = session.get(Commitment, commitment_id)
        assert commitment is not None and commitment.status == "done"
        steps = [(h.from_status, h.to_status, h.note, h.changed_by) for h in commitment.history]
    assert steps == [
        ("", "proposed", "Raised by the panel", "barnet"),
        ("proposed", "agreed", "step 1", "barnet"),
        ("agreed", "in progress", "step 2", "barnet"),
        ("in progress", "done", "step 3", "barnet"),
    ]
    assert '"from": "in progress"' in audited(sessions, commitment_id)[-1]


def test_explained_needs_an_explanation(sessions, made) -> None:
    _, commitment_id = made
    with pytest.raises(panels.TransitionRefused, match="plain words"):
        move(sessions, commitment_id, "explained", "   ")
    assert count(sessions, CommitmentChange) == 1 and audited(sessions, commitment_id) == []
    move(sessions, commitment_id, "explained", "The bus company said no.")
    with sessions() as session:
        commitment = session.get(Commitment, commitment_id)
        assert commitment is not None
        assert (commitment.status, commitment.explanation) == (
            "explained",
            "The bus company said no.",
        )


@pytest.mark.parametrize(
    ("path", "to"),
    [((), "done"), ((), "in progress"), (("agreed",), "proposed"), (("agreed",), "done"),
     (("explained",), "agreed"), (("agreed", "in progress", "done"), "explained"),
     ((), "finished")],
)  # fmt: skip
def test_illegal_transitions_are_refused(sessions, made, path, to) -> None:
    _, commitment_id = made
    for step in path:
        move(sessions, commitment_id, step, "because")
    before = count(sessions, CommitmentChange)
    with pytest.raises(panels.TransitionRefused):
        move(sessions, commitment_id, to, "because")
    assert count(sessions, CommitmentChange) == before
    assert len(audited(sessions, commitment_id)) == len(path)


def test_only_the_council_changes_its_panel(sessions, made) -> None:
    panel_id, commitment_id = made
    with pytest.raises(PermissionDenied):
        move(sessions, commitment_id, "agreed", who="leeds")
    with pytest.raises(PermissionDenied), transaction(sessions) as session:
        panel = session.get(Panel, panel_id)
        assert panel is not None
        panels.add_point(session, user(session, "leeds"), panel, POINT)
    assert count(sessions, PanelPoint) == 1 and count(sessions, CommitmentChange) == 1


def test_a_bad_point_stores_nothing(sessions, made) -> None:
    panel_id, _ = made
    bad = panels.NewPoint(date(2025, 3, 1), "x" * 1_001, "", "", date(2025, 1, 1))
    with pytest.raises(panels.PointRefused) as refused, transaction(sessions) as session:
        panel = session.get(Panel, panel_id)
        assert panel is not None
        panels.add_point(session, user(session, "barnet"), panel, bad)
    fields = [f for f, _ in refused.value.problems]
    assert fields == ["said", "action", "owner", "due_on-day"]
    assert count(sessions, PanelPoint) == 1


def test_demo_panel_is_seeded_once(sessions) -> None:
    with transaction(sessions) as session:
        first = demo.seed_demo_panels(session).id
    with transaction(sessions) as session:
        assert demo.seed_demo_panels(session).id == first
    with sessions() as session:
        panel = session.get(Panel, first)
        assert panel is not None and panel.is_demo and "(demo)" in panel.name
        states = {c.status for c in panels.commitments(panel)}
    assert states == {"proposed", "agreed", "in progress", "done", "explained"}
    assert count(sessions, Panel) == 1 and count(sessions, PanelPoint) == len(demo.POINTS)
