"""An analyst checks and imports a year's return in Chromium, through the real file input,
and reads the report and the measures: no axe violations, nothing blocked by the CSP, and
no sideways scrolling at 320 pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def reflows(tab: Any) -> None:
    tab.page.set_viewport_size({"width": 320, "height": 800})
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{tab.page.url} is {width} CSS pixels wide in a 320 pixel window"
    tab.page.set_viewport_size({"width": 1024, "height": 800})


def test_check_then_import_a_return(axe_tab: Any, tmp_path: Path, return_files: Any) -> None:
    folder = return_files.write(tmp_path / "return")
    files = [folder / "header.csv", folder / "episodes.csv"]
    page = axe_tab.page
    axe_tab.sign_in_as_admin(next_path="/returns")
    assert page.url == axe_tab.site.url("/returns")
    axe_tab.assert_accessible("/returns")
    reflows(axe_tab)
    page.get_by_label("Collection year (ending 31 March)").select_option("2025")
    page.get_by_label("Files").set_input_files(files)
    page.get_by_role("button", name="Check the files").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="Validation report").is_visible()
    assert "The files can be imported" in page.content()
    axe_tab.assert_accessible("the validation report")
    reflows(axe_tab)
    axe_tab.go("/returns")
    page.get_by_label("Collection year (ending 31 March)").select_option("2025")
    page.get_by_label("Files").set_input_files(files)
    page.get_by_role("button", name="Import the return").click()
    page.wait_for_load_state("load")
    assert page.url == axe_tab.site.url("/returns/measures?year=2025")
    assert page.get_by_role("heading", name="Measures from your returns").is_visible()
    axe_tab.assert_accessible("the measures from returns")
    reflows(axe_tab)
    assert not axe_tab.problems, "\n".join(axe_tab.problems)
