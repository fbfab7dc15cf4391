"""A clearly labelled demo: Barnet's safeguarding children partnership (demo), with Barnet
Council (demo), a schools, a health and a police organisation (demo) as members, an
agreement signed by all four and in force, and each agency's synthetic records of about
600 children imported through the same path as a real upload, then linked once. The demo's
users of these organisations are made with the demo's other users (`demo.demo.DEMO_USERS`)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.config import Settings
from whatworks.core.audit import Actor
from whatworks.core.auth import get_or_create_organisation
from whatworks.core.models import User
from whatworks.sharing import datasets, partnerships, runs, synthetic
from whatworks.sharing.models import AgencyDataset, Partnership

DEMO_PARTNERSHIP = "Barnet Safeguarding Children Partnership (demo)"
DEMO_LA = "E09000003"
#: (organisation, kind of organisation, agency, signatory's name, job title)
MEMBERS = (
    ("Barnet Council (demo)", "council", "council",
     "Chris Morgan (demo)", "Director of Children's Services"),
    ("Barnet Schools Safeguarding Network (demo)", "partner", "school",
     "Jo Patel (demo)", "Designated Safeguarding Lead"),
    ("North London Community Health (demo)", "partner", "health",
     "Sam Okafor (demo)", "Designated Nurse for Safeguarding Children"),
    ("Metropolitan Police (demo)", "partner", "police",
     "Alex Byrne (demo)", "Detective Superintendent, Public Protection"),
)  # fmt: skip
PEOPLE = 600
SEED = 2026
#: The demo agreement started this many days before the demo is built.
STARTED_DAYS_AGO = 120
#: The demo's first linkage run, made when the demo is built, so the whole-system view has
#: something to show.
RUN_PURPOSE = "Which children are known to several services, to plan early help (demo)"


@dataclass(frozen=True)
class DemoSharing:
    """The demo partnership and how many datasets (and records) were added now."""

    partnership_id: int
    datasets_added: int
    records_added: int


def seed_demo_sharing(session: Session, settings: Settings, link: bool = True) -> DemoSharing:
    """The demo partnership, its signed agreement in force and four agency datasets, linked
    once (unless `link` is false); made once, later calls add nothing."""
    found = session.scalar(select(Partnership).where(Partnership.name == DEMO_PARTNERSHIP))
    if found is not None:
        return DemoSharing(found.id, 0, 0)
    author = User(username="demo", full_name="Demo", password_hash="", role="admin")
    organisations = {
        agency: get_or_create_organisation(
            session, name, kind, DEMO_LA if kind == "council" else None
        )
        for name, kind, agency, _, _ in MEMBERS
    }
    partnership = partnerships.create_partnership(
        session, author, DEMO_PARTNERSHIP, DEMO_LA, is_demo=True
    )
    for name, _, agency, _, _ in MEMBERS:
        partnerships.add_member(session, author, partnership, name, agency)
    today = date.today()
    start = today - timedelta(days=STARTED_DAYS_AGO)
    agreement = partnerships.record_agreement(
        session,
        author,
        partnership,
        partnerships.NewAgreement(
            title="Information sharing to safeguard children in Barnet (demo)",
            purpose=(
                "To see which children are known to several services, so the partnership "
                "can plan early help and check that children with needs at one agency are "
                "known to the others (demo)."
            ),
            lawful_basis=partnerships.USUAL_BASIS,
            lawful_basis_detail="",
            agencies=tuple(a for _, _, a, _, _ in MEMBERS),
            fields=partnerships.SHAREABLE_FIELDS,
            retention_months=24,
            start_date=start,
            review_date=start + timedelta(days=365),
            end_date=start + timedelta(days=3 * 365),
        ),
    )
    for _, _, agency, signer, job in MEMBERS:
        partnerships.sign(session, author, agreement, organisations[agency].id, signer, job, start)
    partnerships.activate(session, author, agreement, today)
    data = synthetic.generate(PEOPLE, SEED, agencies=synthetic.AGENCIES)
    records = 0
    with tempfile.TemporaryDirectory(prefix="whatworks-sharing-demo-") as folder:
        for path in data.write(Path(folder)):
            agency = path.stem
            upload = datasets.read_upload(path)
            mapping = datasets.suggest_mapping(upload.columns)
            dataset = datasets.import_dataset(
                session, settings, author, partnership, agency, path, mapping,
                f"{organisations[agency].name}: {agency} records (synthetic, demo)",
                organisation_id=organisations[agency].id, on=today,
            )  # fmt: skip
            records += dataset.row_count
    added = session.scalars(
        select(AgencyDataset.id).where(AgencyDataset.partnership_id == partnership.id)
    ).all()
    session.flush()
    if link:
        runs.run_linkage(
            session, settings.data_dir, Actor("demo"), partnership, None, RUN_PURPOSE, on=today
        )
    return DemoSharing(partnership.id, len(added), records)
