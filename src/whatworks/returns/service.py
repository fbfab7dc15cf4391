"""The returns capability as the CLI and web use it: the store of a deployment, and
computing a council's measures into the outcomes store with an audit entry."""

from __future__ import annotations

from whatworks.config import Settings
from whatworks.core import audit
from whatworks.core.db import transaction
from whatworks.places.models import LocalAuthority
from whatworks.returns import measures, results
from whatworks.returns.store import ReturnsStore
from whatworks.store import session_factory


def returns_store(chosen: Settings) -> ReturnsStore:
    """The deployment's analytics store of returns."""
    return ReturnsStore(chosen.analytics_dir / "returns")


def compute_and_save(
    chosen: Settings, council: LocalAuthority, period: measures.Period, actor: audit.Actor
) -> list[results.Value]:
    """Compute every measure of one council for a period on the configured engine, save the
    values (with provenance) into the outcomes store, and record the read in the audit log."""
    store = returns_store(chosen)
    computed = measures.compute(store, [council.new_la_code], period, chosen.engine)
    with transaction(session_factory(chosen)) as session:
        values = results.values(session, council, computed)
        results.save(session, council, values, results.provenance(store, council, chosen.engine))
        audit.record(
            session,
            actor,
            "returns.measures",
            council.new_la_code,
            "measures computed from the council's child-level returns",
            period=period.period,
            engine=chosen.engine,
        )
    return values
