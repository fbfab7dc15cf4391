"""The indicator catalogue: which published figure each outcome indicator is, and its series.

Each indicator names one measure of one bundled DfE file and the breakdown it is read at.
Series for a local authority are matched on its old three-digit code, which the DfE keeps
when an authority is given a new ONS code (North Yorkshire, Somerset, Buckinghamshire), so
a series runs across the change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from whatworks.core.errors import NotFound
from whatworks.outcomes.models import PublishedDataset, PublishedValue
from whatworks.places.models import LocalAuthority


@dataclass(frozen=True)
class Indicator:
    """A published outcome indicator and where it comes from."""

    id: str
    title: str
    dataset: str
    measure: str
    unit: str  # "%", "per 10,000" or "children"
    polarity: str  # "higher is better", "lower is better" or "no polarity"
    filters: dict[str, str] = field(default_factory=dict)
    headline: bool = False
    note: str = ""


@dataclass(frozen=True)
class SeriesPoint:
    """One period of a series: a number, or the DfE symbol that stands in its place."""

    period: str
    value: float | None
    status: str

    def as_dict(self) -> dict[str, object]:
        return {"period": self.period, "value": self.value, "status": self.status}


CLA = "cla_number_and_rate_per_10k_children"
CATALOGUE: tuple[Indicator, ...] = (
    Indicator(
        "cla_rate_per_10000",
        "Children looked after at 31 March, rate per 10,000 children under 18",
        CLA,
        "rate_per_10000",
        "per 10,000",
        "no polarity",
        {"population_type": "Children looked after on 31 March each year"},
        headline=True,
        note="A rate that is neither good nor bad in itself: read it with its story.",
    ),
    Indicator(
        "cla_count",
        "Children looked after at 31 March",
        CLA,
        "children_count",
        "children",
        "no polarity",
        {"population_type": "Children looked after on 31 March each year"},
    ),
    Indicator(
        "cla_started",
        "Children who started to be looked after in the year",
        CLA,
        "children_count",
        "children",
        "no polarity",
        {"population_type": "Children starting to be looked after each year"},
    ),
    Indicator(
        "cin_at_31_march",
        "Children in need at 31 March",
        "b1_children_in_need_2013_to_2025",
        "At31_episodes",
        "children",
        "no polarity",
    ),
    Indicator(
        "referrals",
        "Referrals to children's social care in the year",
        "c1_children_in_need_referrals_and_rereferrals_2013_to_2025",
        "referral_count",
        "referrals",
        "no polarity",
    ),
    Indicator(
        "rereferral_percent",
        "Re-referrals within 12 months of a previous referral (%)",
        "c1_children_in_need_referrals_and_rereferrals_2013_to_2025",
        "rereferral_percent",
        "%",
        "lower is better",
        headline=True,
    ),
    Indicator(
        "cpp_at_31_march",
        "Children on a child protection plan at 31 March",
        "d5_cpps_at31march_by_duration_2013_to_2025",
        "CPP_At31",
        "children",
        "no polarity",
    ),
    Indicator(
        "cpp_subsequent_percent",
        "Child protection plans starting in the year that were a second or later plan (%)",
        "d3_cpps_subsequent_plan_2013_to_2025",
        "CPP_subsequent_percent",
        "%",
        "lower is better",
        headline=True,
    ),
    Indicator(
        "placements_3_plus_percent",
        "Children looked after at 31 March with 3 or more placements in the year (%)",
        "la_cla_placement_stability",
        "children_percent",
        "%",
        "lower is better",
        {
            "cla_group": "CLA on 31 March",
            "placement_stability": "With 3 or more placements during the year",
        },
        headline=True,
    ),
    Indicator(
        "long_term_stability_percent",
        "Children under 16 looked after 2.5 years or more, with the same carer 2 years (%)",
        "la_cla_placement_stability",
        "children_percent",
        "%",
        "higher is better",
        {
            "cla_group": "Children looked after continuously for at least 2.5 years on 31 "
            "March aged under 16 years",
            "placement_stability": "Living with the same carer for at least 2 years",
        },
    ),
    Indicator(
        "care_leavers_eet_19_21_percent",
        "Care leavers aged 19 to 21 in education, employment or training (%)",
        "la_care_leavers_activity",
        "care_leaver_percent",
        "%",
        "higher is better",
        {
            "care_leaver_age": "19 to 21 years",
            "breakdown": "Total in education, employment or training",
        },
        headline=True,
    ),
    Indicator(
        "care_leavers_suitable_19_21_percent",
        "Care leavers aged 19 to 21 in suitable accommodation (%)",
        "la_care_leavers_accommodation_suitability",
        "care_leaver_percent",
        "%",
        "higher is better",
        {"care_leaver_age": "19 to 21 years", "breakdown": "Accommodation considered suitable"},
    ),
)
BY_ID = {indicator.id: indicator for indicator in CATALOGUE}


def indicator(indicator_id: str) -> Indicator:
    """One indicator of the catalogue by id."""
    try:
        return BY_ID[indicator_id]
    except KeyError:
        raise NotFound(
            f"No indicator {indicator_id!r}; see /api/indicators for the list."
        ) from None


def period_label(period: str) -> str:
    """A DfE time period as people read it: 2025 stays 2025; 202425 becomes 2024/25."""
    if len(period) == 6:
        return f"{period[:4]}/{period[4:]}"
    return period


def _series(
    session: Session, chosen: tuple[Indicator, ...], area_filter: object
) -> dict[str, list[SeriesPoint]]:
    """Each chosen indicator's points for one area, read in one query."""
    dataset_ids = {
        name: dataset_id
        for dataset_id, name in session.execute(
            select(PublishedDataset.id, PublishedDataset.name).where(
                PublishedDataset.name.in_({i.dataset for i in chosen})
            )
        )
    }
    by_key: dict[tuple[int, str], list[tuple[str, float | None, str, dict[str, str]]]] = {}
    if dataset_ids:
        rows = session.execute(
            select(
                PublishedValue.dataset_id,
                PublishedValue.measure,
                PublishedValue.period,
                PublishedValue.value,
                PublishedValue.status,
                PublishedValue.filters,
            )
            .where(
                PublishedValue.dataset_id.in_(set(dataset_ids.values())),
                PublishedValue.measure.in_({i.measure for i in chosen}),
                area_filter,  # type: ignore[arg-type]
            )
            .order_by(PublishedValue.period)
        )
        for dataset_id, measure, period, value, status, filters in rows:
            by_key.setdefault((dataset_id, measure), []).append(
                (period, value, status, json.loads(filters))
            )
    result: dict[str, list[SeriesPoint]] = {}
    for item in chosen:
        found_id = dataset_ids.get(item.dataset)
        candidates = by_key.get((found_id, item.measure), []) if found_id else []
        result[item.id] = [
            SeriesPoint(period, value, status)
            for period, value, status, breakdown in candidates
            if all(breakdown.get(k) == v for k, v in item.filters.items())
        ]
    return result


def place_series(
    session: Session, la: LocalAuthority, chosen: tuple[Indicator, ...] = CATALOGUE
) -> dict[str, list[SeriesPoint]]:
    """Every published period of each indicator for one local authority, oldest first."""
    return _series(
        session,
        chosen,
        (PublishedValue.geographic_level == "Local authority")
        & (PublishedValue.old_la_code == la.old_la_code),
    )


def area_series(
    session: Session, level: str, code: str, chosen: tuple[Indicator, ...] = CATALOGUE
) -> dict[str, list[SeriesPoint]]:
    """Every published period of each indicator for a region ('Regional') or England."""
    return _series(
        session,
        chosen,
        (PublishedValue.geographic_level == level) & (PublishedValue.area_code == code),
    )


def format_value(value: float | None, status: str, unit: str) -> str:
    """A figure as people read it, or what its DfE symbol means."""
    if status != "value" or value is None:
        return {
            "c": "c (suppressed)",
            "x": "x (not available)",
            "z": "z (not applicable)",
            "k": "k (fewer than 0.5)",
            "low": "low (small number)",
            "u": "u (low reliability)",
            ":": "not available",
        }.get(status, status)
    text = f"{value:,.1f}" if value % 1 else f"{value:,.0f}"
    return f"{text}%" if unit == "%" else text
