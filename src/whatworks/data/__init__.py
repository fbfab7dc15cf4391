"""Bundled reference data (Open Government Licence v3.0; see docs/data-sources.md)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def published_dir() -> Path:
    """Folder of the bundled DfE, Ofsted and ONS published statistics."""
    return Path(str(files("whatworks.data").joinpath("published")))


def published_file(name: str) -> Path:
    """One bundled published file by its file name."""
    return published_dir() / name
