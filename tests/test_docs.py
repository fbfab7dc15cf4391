"""The documentation stays true: every command, option, setting and bundled file is in it."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from whatworks.cli import app
from whatworks.data import published_dir

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def commands(group: object, prefix: str = "whatworks") -> dict[str, object]:
    """Every command by its path; a group that runs on its own (`whatworks demo`) too."""
    found = {}
    if hasattr(group, "commands"):
        if getattr(group, "invoke_without_command", False):
            found[prefix] = group
        for name, command in group.commands.items():
            found.update(commands(command, f"{prefix} {name}"))
    else:
        found[prefix] = group
    return found


def test_every_command_and_option_is_documented() -> None:
    reference = (DOCS / "cli.md").read_text(encoding="utf-8")
    every = commands(typer.main.get_command(app))
    assert {
        "whatworks serve",
        "whatworks demo",
        "whatworks import published",
        "whatworks users create",
        "whatworks db upgrade",
    } <= set(every)
    for path, command in every.items():
        assert f"## `{path}" in reference, f"{path} is not in docs/cli.md"
        for parameter in command.params:  # type: ignore[attr-defined]
            for option in getattr(parameter, "opts", []):
                if option.startswith("--") and option != "--help":
                    assert f"`{option}`" in reference, f"{path} {option} is not in docs/cli.md"


def test_every_bundled_file_is_attributed() -> None:
    sources = (DOCS / "data-sources.md").read_text(encoding="utf-8")
    assert "Open Government Licence v3.0" in sources
    for path in sorted(published_dir().iterdir()):
        if path.suffix in {".csv", ".ods"}:
            assert f"`{path.name}`" in sources, f"{path.name} is not in docs/data-sources.md"


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    config = (ROOT / "src" / "whatworks" / "config.py").read_text(encoding="utf-8")
    for variable in sorted(set(re.findall(r"WHATWORKS_[A-Z_]+", config))):
        assert f"`{variable}`" in readme, f"{variable} is not in the README"


def test_readme_shows_the_two_commands_and_its_links_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    for target in re.findall(r"\]\(((?!http)[^)#]+)\)", readme):
        assert (ROOT / target).exists(), f"README links to missing {target}"


def test_docs_links_exist() -> None:
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"\]\(((?!http)[^)#]+)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
