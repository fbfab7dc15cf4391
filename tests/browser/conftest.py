"""Browser fixtures: the real app on a real SQLite store, served by uvicorn, and Chromium.

The store is built once per session with the real migrations, the bundled places, the
published files the place page reads and one administrator. The app runs in a background
thread on a free port of 127.0.0.1. Debian's Chromium is driven by Playwright; no browser is
ever downloaded. Two browser contexts are shared by the tests: one enforces the site's
Content Security Policy as a visitor's browser would, the other lets axe-core be injected.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    ViewportSize,
    sync_playwright,
)

from whatworks import migrations
from whatworks.config import Settings
from whatworks.core.auth import create_user, get_or_create_organisation
from whatworks.core.db import create_db_engine, make_session_factory, transaction
from whatworks.data import published_file
from whatworks.outcomes import measures
from whatworks.outcomes.catalogue import catalogue
from whatworks.outcomes.published import import_published
from whatworks.places.places import load_bundled
from whatworks.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOC_IMAGES = ROOT / "docs" / "images"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}

#: The published files the place page reads (its headline figures and all its series).
#: Every file the indicator catalogue reads, so every page has its real figures.
PUBLISHED_FILES = tuple(sorted({f"{name}.csv" for item in catalogue() for name in item.datasets}))


@dataclass(frozen=True)
class Site:
    """The running app: where it answers and who can sign in to it."""

    base_url: str
    database_url: str = ""
    admin_username: str = "admin"
    admin_password: str = "browser-test-password"
    admin_name: str = "Ada Administrator"

    def url(self, path: str) -> str:
        return self.base_url + path


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what}: run the tests with `make test`, which installs it.")
    pytest.skip(what)


def _build_store(folder: Path, site: Site) -> str:
    url = f"sqlite:///{folder / 'whatworks.sqlite'}"
    migrations.upgrade(url)
    engine = create_db_engine(url)
    with transaction(make_session_factory(engine)) as session:
        load_bundled(session)
        import_published(session, [published_file(name) for name in PUBLISHED_FILES])
        barnet = get_or_create_organisation(session, "Barnet Council", "council", "E09000003")
        admin = create_user(
            session,
            site.admin_username,
            site.admin_password,
            "admin",
            full_name=site.admin_name,
            organisation=barnet,
        )
        measure = measures.create(
            session,
            admin,
            service="Family Group Conferencing",
            name="Plans reviewed within 12 weeks (%)",
            quadrant="how well",
            kind="percent",
            polarity="higher is better",
            target=80.0,
        )
        measures.store(
            session,
            admin,
            measure,
            [measures.check(measure, f"2025-Q{q}", str(v)) for q, v in ((1, 70), (2, 74), (3, 79))],
        )
    engine.dispose()
    return url


def _wait_until_answering(url: str, thread: threading.Thread, timeout: float = 30.0) -> None:
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the whatworks server stopped while starting")
        try:
            with no_proxy.open(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the whatworks server did not answer {url} within {timeout} seconds")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app on a migrated SQLite store with places, published figures and an admin."""
    folder = tmp_path_factory.mktemp("browser")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    site = Site(base_url=f"http://127.0.0.1:{listener.getsockname()[1]}")
    site = dataclasses.replace(site, database_url=_build_store(folder, site))
    settings = Settings(
        data_dir=folder,
        database_url=site.database_url,
        secret_key="browser-test-secret-key-not-for-use",
        engine="duckdb",
        secure_cookies=False,
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    # uvicorn listens on the socket bound above, so no other process can take the port.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="whatworks-server", daemon=True
    )
    thread.start()
    try:
        _wait_until_answering(site.url("/api"), thread)
        yield site
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        app.state.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, shared by every browser test."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed")
    if not AXE.exists():
        _missing(f"{AXE} is missing: run `npm ci`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def describe(violations: list[dict[str, Any]]) -> str:
    """Each axe-core violation: its rule, what it asks for and the elements that fail it."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    at {' > '.join(map(str, node['target']))}")
            for reason in node.get("failureSummary", "").splitlines()[1:]:
                lines.append(f"       {reason.strip()}")
    return "\n".join(lines)


@dataclass(repr=False)
class Tab:
    """A browser tab on the site that remembers what went wrong in its console."""

    page: Page
    site: Site
    console_errors: list[str] = field(default_factory=list)
    error_pages: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        self.page.on(
            "requestfailed",
            lambda request: self.console_errors.append(
                f"request failed: {request.url} ({request.failure})"
            ),
        )

    def __repr__(self) -> str:
        return f"Tab({self.page.url})"

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} [{message.location.get('url', '')}]")

    def _response(self, response: Response) -> None:
        if response.request.is_navigation_request() and response.status >= 400:
            self.error_pages.add(response.url)

    @property
    def problems(self) -> list[str]:
        """Console errors, failed requests and script errors, except the browser's note
        that a page meant to answer with an error status (404, 401) did so."""
        return [
            e
            for e in self.console_errors
            if not (
                e.startswith("Failed to load resource")
                and any(e.endswith(f"[{url}]") for url in self.error_pages)
            )
        ]

    def go(self, path: str, status: int = 200) -> Response:
        """Load `path` and check the status it answered with."""
        response = self.page.goto(self.site.url(path), wait_until="load")
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"{path} answered {response.status}, not {status}"
        return response

    def sign_in(self, username: str, password: str, next_path: str = "/") -> None:
        """Sign in through the real form; the site then shows `next_path`."""
        self.go(f"/sign-in?next={next_path}")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.get_by_role("button", name="Sign in", exact=True).click()
        self.page.wait_for_load_state("load")

    def sign_in_as_admin(self, next_path: str = "/") -> None:
        self.sign_in(self.site.admin_username, self.site.admin_password, next_path)

    def axe_violations(self) -> list[dict[str, Any]]:
        """The WCAG 2.2 AA (and earlier) violations axe-core finds on the current page."""
        self.page.add_script_tag(path=AXE)
        result = self.page.evaluate(
            """tags => axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            })""",
            AXE_TAGS,
        )
        return list(result["violations"])

    def assert_accessible(self, where: str) -> None:
        """Fail, naming every violation and where it is, if axe-core finds any."""
        violations = self.axe_violations()
        if violations:
            pytest.fail(f"axe-core found on {where}:\n{describe(violations)}", pytrace=False)

    def screenshot(self, name: str, *, docs: bool = False) -> list[Path]:
        """A full-page PNG in test-artifacts/; with `docs`, also the top 1,500 pixels in
        docs/images/ that the README shows. Returns the files written."""
        ARTIFACTS.mkdir(exist_ok=True)
        written = [ARTIFACTS / f"{name}.png"]
        self.page.screenshot(path=written[0], full_page=True)
        if docs:
            DOC_IMAGES.mkdir(parents=True, exist_ok=True)
            written.append(DOC_IMAGES / f"{name}.png")
            # Tall enough to show the first headline figure whole: its chart and table.
            clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": 1500}
            self.page.screenshot(path=written[1], full_page=True, clip=clip)
        return written


def _context(browser: Browser, *, bypass_csp: bool) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=bypass_csp)
    yield context
    context.close()


def _tab(context: BrowserContext, site: Site) -> Iterator[Tab]:
    context.clear_cookies()
    page = context.new_page()
    yield Tab(page, site)
    page.close()


@pytest.fixture(scope="session")
def csp_context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser context that enforces the site's Content Security Policy."""
    yield from _context(browser, bypass_csp=False)


@pytest.fixture(scope="session")
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser context that ignores the CSP, so axe-core can be injected as a script."""
    yield from _context(browser, bypass_csp=True)


@pytest.fixture
def tab(csp_context: BrowserContext, site: Site) -> Iterator[Tab]:
    """A fresh tab, signed out, with the site's Content Security Policy enforced."""
    yield from _tab(csp_context, site)


@pytest.fixture
def axe_tab(axe_context: BrowserContext, site: Site) -> Iterator[Tab]:
    """A fresh tab, signed out, into which axe-core can be injected."""
    yield from _tab(axe_context, site)
