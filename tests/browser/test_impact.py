"""The "Did it work here?" pages in Chromium, on a store with the demo project and the
published figures it reads (and the "conditions or model?" page of the demo adoptions of
family group conferencing): no axe-core violations, nothing blocked by the Content Security
Policy, no sideways scrolling at 320 CSS pixels (WCAG 1.4.10), and saving a study through
the real form."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from whatworks import migrations
from whatworks.config import Settings
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.data import published_file
from whatworks.evidence import seed
from whatworks.evidence.models import Project
from whatworks.outcomes.published import import_published
from whatworks.places.places import load_bundled
from whatworks.web.app import create_app

pytestmark = pytest.mark.browser

MEMBER = "barnet-member"
PASSWORD = "browser-test-password"
FILES = (
    "cla_number_and_rate_per_10k_children",
    "c1_children_in_need_referrals_and_rereferrals_2013_to_2025",
)


@dataclass(frozen=True)
class ImpactSite:
    """The app on a seeded store (the same shape as conftest's Site)."""

    base_url: str
    project: int
    admin_username: str = "admin"
    admin_password: str = PASSWORD

    def url(self, path: str) -> str:
        return self.base_url + path


def _build_store(folder: Path) -> tuple[str, int]:
    url = f"sqlite:///{folder / 'whatworks.sqlite'}"
    migrations.upgrade(url)
    engine = create_db_engine(url)
    with transaction(make_session_factory(engine)) as session:
        load_bundled(session)
        import_published(session, [published_file(f"{name}.csv") for name in FILES])
        seed.seed(session)
        seed.seed_demo(session)
        barnet = get_or_create_organisation(session, "Barnet Council (demo)", "council")
        create_user(session, "admin", PASSWORD, "admin", "Ada Administrator")
        create_user(session, MEMBER, PASSWORD, "member", organisation=barnet)
        project = session.scalar(
            select(Project.id).where(Project.seed_key == "demo:barnet-family-network-meetings")
        )
        assert project is not None
    engine.dispose()
    return url, project


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImpactSite]:
    """This module's own app, on the seeded store, in a background thread."""
    folder = tmp_path_factory.mktemp("impact-browser")
    url, project = _build_store(folder)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    found = ImpactSite(f"http://127.0.0.1:{listener.getsockname()[1]}", project)
    settings = Settings(
        data_dir=folder,
        database_url=url,
        secret_key="browser-test-secret-key-not-for-use",
        engine="duckdb",
        secure_cookies=False,
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="impact-server", daemon=True
    )
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the whatworks server stopped while starting"
            threading.Event().wait(0.05)
        yield found
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        app.state.engine.dispose()


def _target_outcome(tab: Any) -> None:
    tab.go(f"/evidence/projects/{tab.site.project}/impact")
    assert tab.page.get_by_role("heading", name="Difference-in-differences").is_visible()
    assert "95% interval" in tab.page.content()


def _both_methods(tab: Any) -> None:
    tab.go(f"/evidence/projects/{tab.site.project}/impact?indicator=rereferral_percent")
    assert "Comparison councils in the synthetic control" in tab.page.content()


def _member_with_the_save_form(tab: Any) -> None:
    path = f"/evidence/projects/{tab.site.project}/impact?indicator=rereferral_percent"
    tab.sign_in(MEMBER, PASSWORD, next_path=path)
    assert tab.page.get_by_role("button", name="Save as a study").is_visible()


def _conditions_or_model(tab: Any) -> None:
    tab.go(
        "/impact/interventions/family-group-conferencing-at-pre-proceedings"
        "?indicator=rereferral_percent"
    )
    assert tab.page.get_by_role("heading", name="Conditions or model?").is_visible()
    assert "What this can and cannot tell" in tab.page.content()


VISITS: dict[str, Callable[[Any], None]] = {
    "the impact start page": lambda tab: tab.go("/impact"),
    "a project's estimate on its target outcome": _target_outcome,
    "a project's estimate with both methods": _both_methods,
    "the save form": _member_with_the_save_form,
    "conditions or model? across an intervention's sites": _conditions_or_model,
}


def reflows(tab: Any, where: str) -> None:
    tab.page.set_viewport_size({"width": 320, "height": 800})
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{where} is {width} CSS pixels wide in a 320 pixel window"
    tab.page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("visit", VISITS)
def test_no_axe_violations_and_reflows(visit: str, axe_tab: Any) -> None:
    VISITS[visit](axe_tab)
    axe_tab.assert_accessible(visit)
    reflows(axe_tab, visit)


@pytest.mark.parametrize("visit", VISITS)
def test_loads_cleanly_under_the_csp(visit: str, tab: Any) -> None:
    VISITS[visit](tab)
    assert not tab.problems, f"console errors on {visit}:\n" + "\n".join(tab.problems)


def test_saving_in_the_browser_makes_a_study(tab: Any) -> None:
    _member_with_the_save_form(tab)
    tab.page.get_by_role("radio", name="Synthetic control").check()
    tab.page.get_by_role("button", name="Save as a study").click()
    tab.page.wait_for_load_state("load")
    assert "/evidence/studies/" in tab.page.url
    assert "synthetic control" in tab.page.content()
