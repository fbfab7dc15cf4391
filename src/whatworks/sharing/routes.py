"""Pages and JSON of information sharing."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
