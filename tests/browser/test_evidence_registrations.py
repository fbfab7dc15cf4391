"""Projects, registrations and the tracker in Chromium, on a store seeded with the bundled
evidence and the demo: no axe-core violations, nothing blocked by the Content Security
Policy, and no sideways scrolling at 320 CSS pixels (WCAG 1.4.10)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from whatworks import migrations
from whatworks.config import Settings
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.evidence import registrations, seed
from whatworks.evidence.registrations import EvaluationPlan
from whatworks.places.places import load_bundled
from whatworks.web.app import create_app

pytestmark = pytest.mark.browser

MEMBER = "barnet-member"
PASSWORD = "browser-test-password"


@dataclass(frozen=True)
class EvidenceSite:
    """The app on a seeded store (the same shape as conftest's Site)."""

    base_url: str
    project: int
    amended: int
    admin_username: str = "admin"
    admin_password: str = PASSWORD

    def url(self, path: str) -> str:
        return self.base_url + path


def _build_store(folder: Path) -> tuple[str, int, int]:
    """A migrated store with places, the bundled evidence and the demo, in which the demo's
    overdue trial has been amended once; returns its URL, the demo project and the trial."""
    url = f"sqlite:///{folder / 'whatworks.sqlite'}"
    migrations.upgrade(url)
    engine = create_db_engine(url)
    with transaction(make_session_factory(engine)) as session:
        load_bundled(session)
        seed.seed(session)
        seed.seed_demo(session)
        barnet = get_or_create_organisation(session, "Barnet Council (demo)", "council")
        create_user(session, "admin", PASSWORD, "admin", "Ada Administrator")
        member = create_user(session, MEMBER, PASSWORD, "member", organisation=barnet)
        trial = next(
            r
            for r in registrations.list_registrations(session)
            if r.seed_key == "demo:registration-overdue"
        )
        assert trial.project_id is not None
        plan = EvaluationPlan.of(registrations.latest_version(session, trial.id))
        content = plan.content() | {
            "planned_completion": date(2023, 9, 30),
            "planned_report": date(2024, 9, 30),
        }
        registrations.amend(
            session,
            member,
            trial.id,
            EvaluationPlan.from_dict(content),
            "Recruitment was slower than planned; completion moves six months (demo).",
        )
        found = (url, trial.project_id, trial.id)
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EvidenceSite]:
    """This module's own app, on the seeded store, in a background thread."""
    folder = tmp_path_factory.mktemp("evidence-browser")
    url, project, amended = _build_store(folder)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    found = EvidenceSite(f"http://127.0.0.1:{listener.getsockname()[1]}", project, amended)
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
        target=server.run, kwargs={"sockets": [listener]}, name="evidence-server", daemon=True
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


def _project(tab: Any) -> None:
    tab.go(f"/evidence/projects/{tab.site.project}")
    assert tab.page.get_by_role("heading", name="Conditions for success").is_visible()


def _registration(tab: Any) -> None:
    tab.go(f"/evidence/registrations/{tab.site.amended}")
    assert tab.page.get_by_role("heading", name="Version history").is_visible()
    assert tab.page.get_by_role("link", name="Version 2").is_visible()


def _version(tab: Any) -> None:
    tab.go(f"/evidence/registrations/{tab.site.amended}/versions/2")
    assert "What changed from the version before" in tab.page.content()


def _form_with_errors(tab: Any) -> None:
    tab.sign_in(MEMBER, PASSWORD, next_path="/evidence/registrations/new")
    assert tab.page.url == tab.site.url("/evidence/registrations/new")
    tab.page.get_by_label("Title of the evaluation").fill("A plan with no outcomes")
    tab.page.get_by_role("button", name="Register the plan").click()
    tab.page.locator(".govuk-error-summary").wait_for()
    assert "Enter the planned completion date" in tab.page.content()


def _amend_form(tab: Any) -> None:
    path = f"/evidence/registrations/{tab.site.amended}/amend"
    tab.sign_in(MEMBER, PASSWORD, next_path=path)
    assert tab.page.url == tab.site.url(path)
    assert tab.page.get_by_role("button", name="Register version 3").is_visible()


def _tracker(tab: Any) -> None:
    tab.go("/evidence/tracker?as_at=2024-06-30")
    assert "Switched" in tab.page.content()


VISITS: dict[str, Callable[[Any], None]] = {
    "a project page": _project,
    "a registration with its history": _registration,
    "a registration's version 2": _version,
    "the registration form with errors": _form_with_errors,
    "the amend form": _amend_form,
    "the tracker": _tracker,
    "the projects list": lambda tab: tab.go("/evidence/projects"),
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
    assert tab.page.evaluate("document.body.classList.contains('govuk-frontend-supported')")


def test_amend_in_the_browser_makes_a_new_version(tab: Any) -> None:
    """Through the real form: a new version with its reason; version 1 stays readable."""
    _amend_form(tab)
    page = tab.page
    page.get_by_label("Reason for the change").fill("The report moves a month (browser test).")
    page.locator("#planned_report-month").fill("10")
    page.get_by_role("button", name="Register version 3").click()
    page.wait_for_load_state("load")
    assert page.url == tab.site.url(f"/evidence/registrations/{tab.site.amended}/versions/3")
    assert "The report moves a month (browser test)." in page.content()
    tab.go(f"/evidence/registrations/{tab.site.amended}/versions/1")
    assert "31 March 2023" in page.content()
