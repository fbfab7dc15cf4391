"""Interventions: models of practice described once (what it is, what must stay the same,
for whom, which outcomes, what it costs, who owns it and whom to talk to).

Researchers create and correct them; every write is in the audit log with the fields it
changed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from whatworks.core.db import utcnow
from whatworks.core.errors import NotFound, WhatworksError
from whatworks.evidence import access
from whatworks.evidence.models import Intervention

#: Fields a researcher may set or correct with `update_intervention`.
EDITABLE = (
    "name",
    "description",
    "core_components",
    "target_population",
    "outcome_domains",
    "unit_cost",
    "cost_components",
    "cost_basis",
    "benefit_cost_ratio",
    "benefit_cost_basis",
    "owner",
    "evaluator",
    "adopters",
    "contacts",
    "source",
)


def slugify(name: str) -> str:
    """A readable address for a name: "Family Valued (Leeds ...)" -> "family-valued".

    Words in brackets are dropped when something is left without them.
    """
    plain = re.sub(r"\s*\(.*?\)\s*", " ", name).strip() or name
    ascii_text = unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower().replace("'", "")).strip("-")
    return slug[:80].rstrip("-")


def pounds(value: object, what: str) -> Decimal | None:
    """An amount in pounds (pence kept), None when blank; refuses text and negatives."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", "").replace("£", "").strip())
    except InvalidOperation:
        raise WhatworksError(
            f"{what} {value!r} is not an amount in pounds; give a number."
        ) from None
    if not amount.is_finite() or amount < 0:
        raise WhatworksError(f"{what} {value!r} must be zero or more.")
    return amount.quantize(Decimal("0.01"))


def check_contacts(contacts: object, where: str) -> list[dict[str, Any]]:
    """Contacts as a list of {name, role, organisation, email}; each needs a name."""
    if not isinstance(contacts, Sequence) or isinstance(contacts, str):
        raise WhatworksError(f"{where}: contacts must be a list of people.")
    found = []
    for n, person in enumerate(contacts, 1):
        if not isinstance(person, Mapping) or not str(person.get("name", "")).strip():
            raise WhatworksError(f"{where}: contact {n} needs a name.")
        found.append({k: str(v).strip() for k, v in person.items() if v is not None})
    return found


def _cost_components(items: object) -> list[dict[str, Any]]:
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise WhatworksError("Cost components must be a list of {item, amount}.")
    found = []
    for n, part in enumerate(items, 1):
        if not isinstance(part, Mapping) or not str(part.get("item", "")).strip():
            raise WhatworksError(f"Cost component {n} needs an item (what the money pays for).")
        amount = pounds(part.get("amount"), f"Cost component {n} amount")
        if amount is None:
            raise WhatworksError(f"Cost component {n} ({part['item']}) needs an amount in £.")
        found.append({"item": str(part["item"]).strip(), "amount": float(amount)})
    return found


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise WhatworksError(
            f"{', '.join(unknown)} cannot be set on an intervention; use {', '.join(EDITABLE)}."
        )
    clean = dict(fields)
    if "name" in clean:
        clean["name"] = str(clean["name"]).strip()
        if not clean["name"]:
            raise WhatworksError("An intervention needs a name.")
    if "unit_cost" in clean:
        clean["unit_cost"] = pounds(clean["unit_cost"], "Unit cost per child")
    if "cost_components" in clean:
        clean["cost_components"] = _cost_components(clean["cost_components"])
    if "contacts" in clean:
        clean["contacts"] = check_contacts(clean["contacts"], "Intervention")
    if "outcome_domains" in clean:
        domains = clean["outcome_domains"]
        if isinstance(domains, str) or not isinstance(domains, Sequence):
            raise WhatworksError("Outcome domains must be a list of names.")
        clean["outcome_domains"] = [str(d).strip() for d in domains if str(d).strip()]
    if clean.get("benefit_cost_ratio") is not None:
        ratio = float(clean["benefit_cost_ratio"])
        if ratio < 0:
            raise WhatworksError(f"Benefit-cost ratio {ratio} must be zero or more.")
        if not str(clean.get("benefit_cost_basis", "")).strip():
            raise WhatworksError(
                "A benefit-cost ratio needs its basis (who estimated it, over what period)."
            )
        clean["benefit_cost_ratio"] = ratio
    return clean


def create_intervention(
    session: Session,
    author: access.Author,
    name: str,
    *,
    slug: str | None = None,
    is_demo: bool = False,
    **fields: Any,
) -> Intervention:
    """A new intervention; its slug comes from the name unless given, and must be free."""
    actor = access.require_researcher(author, "add interventions")
    clean = _clean({"name": name, **fields})
    slug = slug or slugify(clean["name"])
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug or ""):
        raise WhatworksError(f"{slug!r} is not a usable address; use lower-case words and '-'.")
    if session.get(Intervention, slug) is not None:
        raise WhatworksError(f"An intervention with the address {slug!r} exists; choose another.")
    if session.scalar(select(Intervention).where(Intervention.name == clean["name"])) is not None:
        raise WhatworksError(f"An intervention called {clean['name']!r} exists already.")
    intervention = Intervention(id=slug, is_demo=is_demo, created_by=actor.username, **clean)
    session.add(intervention)
    session.flush()
    access.record(session, actor, "add intervention", f"intervention:{slug}", name=clean["name"])
    return intervention


def update_intervention(
    session: Session, author: access.Author, slug: str, reason: str, **fields: Any
) -> Intervention:
    """Correct or complete an intervention; the old and new values go to the audit log."""
    actor = access.require_researcher(author, "change interventions")
    if not reason.strip():
        raise WhatworksError("Say why the intervention is being changed (the reason is audited).")
    intervention = get_intervention(session, slug)
    clean = _clean(fields)
    changed = {}
    for key, value in clean.items():
        old = getattr(intervention, key)
        if old != value:
            changed[key] = {"from": old, "to": value}
            setattr(intervention, key, value)
    if changed:
        intervention.updated_at = utcnow()
        session.flush()
        access.record(
            session, actor, "change intervention", f"intervention:{slug}", reason=reason, **changed
        )
    return intervention


def get_intervention(session: Session, slug: str) -> Intervention:
    """The intervention at `slug`, or NotFound."""
    found = session.get(Intervention, slug)
    if found is None:
        raise NotFound(f"No intervention has the address {slug!r}; check the list of them.")
    return found


def list_interventions(
    session: Session, text: str = "", *, include_demo: bool = True
) -> list[Intervention]:
    """Interventions by name, filtered by words in the name, description or adopters."""
    query = select(Intervention).order_by(Intervention.name)
    if not include_demo:
        query = query.where(Intervention.is_demo.is_(False))
    for word in text.split():
        pattern = f"%{word}%"
        query = query.where(
            or_(
                Intervention.name.ilike(pattern),
                Intervention.description.ilike(pattern),
                Intervention.adopters.ilike(pattern),
                Intervention.id.ilike(pattern),
            )
        )
    return list(session.scalars(query))
