"""Screenshots of the home page and a place page.

Full-page PNGs go to test-artifacts/ (ignored by git) for people to look at; the
top 1,500 pixels go to docs/images/, where the README shows them.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("name", "path", "heading"),
    [
        ("home", "/", "Learn what works for children"),
        ("place-page", "/places/E09000003", "Barnet"),
    ],
)
def test_screenshot(name: str, path: str, heading: str, tab: Any) -> None:
    tab.go(path)
    assert tab.page.get_by_role("heading", level=1).inner_text() == heading
    tab.page.evaluate("document.fonts.ready")
    written = tab.screenshot(name, docs=True)
    assert [p.parent.name for p in written] == ["test-artifacts", "images"]
    for image in written:
        assert image.read_bytes()[:8] == PNG_SIGNATURE
        assert image.stat().st_size > 10_000
