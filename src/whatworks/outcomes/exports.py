"""Scorecards and tables as plain rows for JSON and CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from fastapi.responses import Response

from whatworks.outcomes.scorecard import ScorecardRow


def _point(point: Any) -> dict[str, Any] | None:
    return point.as_dict() if point is not None else None


def scorecard_rows_as_dicts(
    rows: Sequence[ScorecardRow], flat: bool = False
) -> list[dict[str, Any]]:
    """Each scorecard row as a dict: nested for JSON, or flat columns for CSV."""
    found = []
    for row in rows:
        comparators = {
            c.label: {"period": c.period, "value": c.value, "used": c.used, "of": c.of}
            for c in row.comparators
        }
        item: dict[str, Any] = {
            "indicator": row.indicator.id,
            "title": row.indicator.title,
            "tier": row.tier,
            "unit": row.indicator.unit,
            "polarity": row.indicator.polarity,
            "latest": _point(row.latest),
            "prior": _point(row.prior),
            "change": row.change,
            "direction": row.direction,
            "judgement": row.judgement,
            "periods_in_trend": row.periods_in_trend,
            "baseline": _point(row.baseline),
            "baseline_change_percent": row.baseline_change_percent,
            "target": row.target,
            "variance_from_target": row.variance_from_target,
            "comparators": comparators,
            "rank": (
                {
                    "period": row.rank.period,
                    "rank": row.rank.rank,
                    "of": row.rank.of,
                    "quartile": row.rank.quartile,
                }
                if row.rank
                else None
            ),
        }
        if flat:
            item = _flatten(item)
        found.append(item)
    return found


def _flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}".replace(" ", "_").replace(",", "").lower()
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}_"))
        elif value is None and key in ("latest", "prior", "baseline", "rank"):
            continue
        else:
            flat[name] = value
    return flat


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as CSV text, with every column any row has."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_response(rows: Sequence[dict[str, Any]], filename: str) -> Response:
    """A CSV download."""
    return Response(
        csv_text(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
