"""A council's workforce and leadership on one page: the DfE's published workforce figures
(turnover, agency workers, vacancies, caseloads, sickness absence, and children in care
with three or more social workers), read through the outcomes scorecard with their trend,
target, statistical neighbours, region and England; the council's staff survey results,
as the voice suppression rule leaves them; and the council's own in-year workforce
measures, with an action that adds the standard set of those measures once.

Published figures are public. Survey results and local measures are shown only to members
of the council's own organisation, and each such reading is written to the audit log.
Definitions: docs/voice.md ("Workforce and leadership").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from whatworks.core import audit
from whatworks.core.errors import PermissionDenied
from whatworks.core.models import Organisation, User
from whatworks.outcomes import measures, plans, spc
from whatworks.outcomes.catalogue import Indicator, indicator
from whatworks.outcomes.models import PerformanceMeasure
from whatworks.outcomes.scorecard import (
    ScorecardRow,
    load_context,
    local_authority_scorecard,
    row_for,
)
from whatworks.outcomes.series import ENGLAND, LA, NATIONAL, SeriesPoint
from whatworks.places.models import LocalAuthority
from whatworks.places.places import DEFAULT_NEIGHBOUR_MODEL, local_authorities, local_authority
from whatworks.voice import bank, results

#: The service name the council's own workforce measures are kept under.
SERVICE = "Children's social care workforce"
#: The published workforce indicators of the catalogue, in the order the page shows them.
PUBLISHED = (
    "sw_turnover_rate_percent",
    "sw_agency_rate_percent",
    "sw_vacancy_rate_percent",
    "sw_caseload_average",
    "sw_absence_rate_percent",
    "cla_3_plus_social_workers_percent",
)
#: The staff survey questions of the bank that speak to morale and workload.
STAFF_QUESTIONS = ("happy_at_work", "manageable_workload", "supported_by_manager")
STAFF = "staff"
PURPOSE = "workforce and leadership"


@dataclass(frozen=True)
class StandardMeasure:
    """One of the standard in-year workforce measures, defined as the DfE defines it."""

    name: str
    quadrant: str
    kind: str
    polarity: str
    numerator: str
    denominator: str
    note: str

    @property
    def description(self) -> str:
        """The definition stored with the measure: numerator, denominator and source."""
        how = (
            "Value = numerator / denominator (a number, not a percentage)"
            if self.kind == "number"
            else "Value = numerator / denominator x 100"
        )
        return (
            f"Numerator: {self.numerator}. Denominator: {self.denominator}. {how}, "
            f"each month. {self.note}"
        )


STANDARD_MEASURES = (
    StandardMeasure(
        name="Agency social worker rate (%)",
        quadrant="how well",
        kind="percent",
        polarity="lower is better",
        numerator="FTE of agency child and family social workers working for the council at "
        "the end of the month",
        denominator="that agency FTE plus the FTE of child and family social workers employed "
        "by the council (in post) at the end of the month",
        note="The DfE's agency worker rate (Children's social work workforce) is the same "
        "ratio at 30 September.",
    ),
    StandardMeasure(
        name="Social worker vacancy rate (%)",
        quadrant="how well",
        kind="percent",
        polarity="lower is better",
        numerator="FTE of vacant child and family social worker posts at the end of the month, "
        "including posts covered by agency workers",
        denominator="the vacant FTE plus the FTE of child and family social workers employed "
        "in post at the end of the month",
        note="The DfE's vacancy rate (Children's social work workforce) is the same ratio at "
        "30 September.",
    ),
    StandardMeasure(
        name="Average caseload of case-holding social workers",
        quadrant="how much",
        kind="number",
        polarity="lower is better",
        numerator="cases (children) held by child and family social workers, employed and "
        "agency, at the end of the month",
        denominator="FTE of the social workers who held at least one case at the end of the month",
        note="Enter the value to one decimal place; the numerator and denominator can be "
        "entered beside it. The DfE's average caseload (Children's social work workforce) "
        "is the same ratio at 30 September.",
    ),
    StandardMeasure(
        name="Social worker turnover in the last 12 months (%)",
        quadrant="how well",
        kind="percent",
        polarity="lower is better",
        numerator="FTE of child and family social workers employed by the council who left in "
        "the 12 months to the end of the month",
        denominator="FTE of child and family social workers employed by the council in post at "
        "the end of the month",
        note="Agency workers are not counted. The DfE's turnover rate (Children's social work "
        "workforce) is leavers in the year to 30 September over the FTE in post at 30 "
        "September.",
    ),
    StandardMeasure(
        name="Team managers in permanent posts (%)",
        quadrant="how well",
        kind="percent",
        polarity="higher is better",
        numerator="FTE of team manager posts filled by social workers employed by the council "
        "(not agency or interim) at the end of the month",
        denominator="FTE of all filled team manager posts, employed and agency, at the end of "
        "the month",
        note="Team managers are the workforce census's first line managers; this is 100 minus "
        "their agency rate. The DfE does not publish it per council in the bundled files.",
    ),
    StandardMeasure(
        name="Children in care with 3 or more social workers in the last 12 months (%)",
        quadrant="how well",
        kind="percent",
        polarity="lower is better",
        numerator="children in care at the end of the month who had 3 or more different "
        "social workers in the 12 months to the end of the month",
        denominator="all children in care at the end of the month",
        note="The DfE publishes the same ratio for children looked after on 31 March over the "
        "year to 31 March (Children looked after in England, la_cla_swcount).",
    ),
)


@dataclass(frozen=True)
class PublishedFigure:
    """One published workforce indicator for the authority, as a scorecard row, with
    England's series beside it; `joint_with` names the authorities the DfE published it
    together with (empty when it is the authority's own figure)."""

    row: ScorecardRow
    england: list[SeriesPoint]
    joint_with: tuple[str, ...] = ()

    @property
    def indicator(self) -> Indicator:
        return self.row.indicator


@dataclass(frozen=True)
class SurveyFigure:
    """A staff survey question's share of good answers, round by round, after disclosure
    control: a withheld round holds its symbol (c or low) and no number."""

    question_id: str
    row: ScorecardRow


@dataclass(frozen=True)
class LocalMeasure:
    """One of the council's own workforce measures, with its trend, target and SPC reading."""

    measure: PerformanceMeasure
    row: ScorecardRow
    variation: str | None
    assurance: str | None


@dataclass(frozen=True)
class Workforce:
    """Everything the workforce page shows; `survey` and `measures` are None for anyone
    who is not a member of the council's own organisation."""

    la: LocalAuthority
    council: Organisation | None
    member: bool
    model: str
    published: list[PublishedFigure]
    survey: list[SurveyFigure] | None
    measures: list[LocalMeasure] | None
    missing_standard: tuple[StandardMeasure, ...]


def published_indicators() -> tuple[Indicator, ...]:
    """The published workforce indicators, from the catalogue."""
    return tuple(indicator(ident) for ident in PUBLISHED)


def is_member(user: User | None, council: Organisation | None) -> bool:
    """Whether the user belongs to the council's own organisation."""
    return user is not None and council is not None and user.organisation_id == council.id


def _joint_area(session: Session, item: Indicator, old_code: str) -> str | None:
    """The area under which the DfE published the authority together with another
    (940 / 941), if it did."""
    for area in load_context(session).by_level[LA].get(item.id, {}):
        if " / " in area and old_code in area.split(" / "):
            return area
    return None


def _joint_names(session: Session, area: str, la: LocalAuthority) -> tuple[str, ...]:
    codes = set(area.split(" / ")) - {la.old_la_code}
    return tuple(a.name for a in local_authorities(session) if a.old_la_code in codes)


def published_figures(
    session: Session,
    la: LocalAuthority,
    targets: dict[str, float] | None = None,
    model: str = DEFAULT_NEIGHBOUR_MODEL,
) -> list[PublishedFigure]:
    """Each published workforce indicator for the authority: latest and prior figure,
    trend, target, statistical neighbours' mean and median, region, England and rank.

    Where the DfE publishes the authority only together with another (North and West
    Northamptonshire, Kingston and Richmond), the joint figure is shown and named as such;
    it is not ranked among single authorities.
    """
    items = published_indicators()
    rows = local_authority_scorecard(session, la, (), items, targets or {}, model=model)
    england = load_context(session).by_level[NATIONAL]
    found = []
    for item, row in zip(items, rows, strict=True):
        joint: tuple[str, ...] = ()
        if not row.points:
            area = _joint_area(session, item, la.old_la_code)
            if area is not None:
                stand_in = LocalAuthority(
                    new_la_code=la.new_la_code,
                    old_la_code=area,
                    name=la.name,
                    region_code=la.region_code,
                )
                [row] = local_authority_scorecard(
                    session, stand_in, (), (item,), targets or {}, model=model
                )
                joint = _joint_names(session, area, la)
        found.append(PublishedFigure(row, england.get(item.id, {}).get(ENGLAND, []), joint))
    return found


def _survey_indicator(question_id: str) -> Indicator:
    return Indicator(
        id=results.indicator_id(STAFF, question_id),
        title=f"% of staff who {bank.question(question_id).indicator}",
        lay=bank.question(question_id).text,
        technical="Share of good answers in the council's staff survey, by round, after the "
        "suppression rule of docs/voice.md.",
        unit="%",
        polarity="higher is better",
        population="Staff who answered the council's survey",
        ecm="Stay safe",
        framework="Children, young people and families stay together and get the help they need",
        powers={"communication": "M", "proxy": "M", "data": "M"},
        source=results.SOURCE,
        measure=question_id,
    )


def staff_survey(session: Session, la_code: str) -> list[SurveyFigure]:
    """The council's staff survey results on morale and workload, round by round, as the
    survey's closing wrote them to outcomes: shares withheld there stay withheld here.
    Questions never asked are left out."""
    found = []
    for question_id in STAFF_QUESTIONS:
        item = _survey_indicator(question_id)
        points = results.indicator_series(session, la_code, item.id)
        if points:
            found.append(SurveyFigure(question_id, row_for(item, points, "survey")))
    return found


def _measure_indicator(measure: PerformanceMeasure) -> Indicator:
    return Indicator(
        id=f"measure-{measure.id}",
        title=measure.name,
        lay=measure.description,
        technical=measure.description,
        unit="%" if measure.kind == "percent" else "number",
        polarity=measure.polarity,
        population=measure.service,
        ecm="Stay safe",
        framework="Children, young people and families stay together and get the help they need",
        powers={"communication": "M", "proxy": "M", "data": "M"},
        source="measures",
        measure=str(measure.id),
    )


def _workforce_measures(session: Session, user: User) -> list[PerformanceMeasure]:
    return [m for m in measures.visible(session, user) if m.service == SERVICE]


def local_measures(session: Session, user: User) -> list[LocalMeasure]:
    """The user's organisation's workforce measures (those kept under SERVICE), each with
    its trend, target and SPC variation and assurance."""
    found = []
    for measure in _workforce_measures(session, user):
        points = measures.series(session, measure)
        row = row_for(_measure_indicator(measure), points, "measure", measure.target)
        variation = assurance = None
        if points:
            chart = spc.xmr_chart([(p.period, p.value) for p in points])
            variation = spc.variation_icon(chart, measure.polarity).label
            icon = spc.assurance_icon(chart, measure.polarity, measure.target)
            assurance = icon.label if icon else None
        found.append(LocalMeasure(measure, row, variation, assurance))
    return found


def missing_standard(session: Session, user: User) -> tuple[StandardMeasure, ...]:
    """The standard workforce measures the user's organisation does not have yet."""
    have = {m.name for m in _workforce_measures(session, user)}
    return tuple(s for s in STANDARD_MEASURES if s.name not in have)


def add_standard_measures(
    session: Session, user: User | None, code: str
) -> list[PerformanceMeasure]:
    """Add the standard in-year workforce measures to the council's own measures, in the
    caller's transaction. Measures it already has (by name, under SERVICE) are left as
    they are, so a second call adds nothing. Only members of the council's organisation
    may do this."""
    la = local_authority(session, code)
    council = plans.council_of(session, la.new_la_code)
    if user is None or not is_member(user, council):
        raise PermissionDenied(
            f"Only members of {la.name}'s own council organisation can add its workforce measures."
        )
    return [
        measures.create(
            session,
            user,
            service=SERVICE,
            name=standard.name,
            quadrant=standard.quadrant,
            kind=standard.kind,
            polarity=standard.polarity,
            description=standard.description,
        )
        for standard in missing_standard(session, user)
    ]


def workforce(
    session: Session, user: User | None, code: str, model: str = DEFAULT_NEIGHBOUR_MODEL
) -> Workforce:
    """The workforce page of a local authority (new or old code). A member's reading of
    the survey results and local measures is written to the audit log."""
    la = local_authority(session, code)
    council = plans.council_of(session, la.new_la_code)
    member = is_member(user, council)
    published = published_figures(session, la, plans.targets(session, council), model)
    if not member or user is None:
        return Workforce(la, council, False, model, published, None, None, ())
    found = Workforce(
        la,
        council,
        True,
        model,
        published,
        staff_survey(session, la.new_la_code),
        local_measures(session, user),
        missing_standard(session, user),
    )
    audit.record(
        session,
        audit.Actor.of(user),
        "view workforce",
        f"council:{la.new_la_code}",
        PURPOSE,
        survey_rounds=sum(len(s.row.points) for s in found.survey or []),
        measures=len(found.measures or []),
    )
    return found


def _point_rows(
    section: str, item: Indicator, area: str, points: list[SeriesPoint]
) -> list[dict[str, Any]]:
    return [
        {
            "section": section,
            "id": item.id,
            "title": item.title,
            "unit": item.unit,
            "polarity": item.polarity,
            "area": area,
            "period": p.period,
            "value": p.value,
            "status": p.status,
        }
        for p in points
    ]


CSV_COLUMNS = ("section", "id", "title", "unit", "polarity", "area", "period", "value", "status")


def csv_rows(found: Workforce) -> list[dict[str, Any]]:
    """Every figure on the page, one row per period: the published series of the authority
    (or its joint figure) and of England, then, for members, the survey rounds (withheld
    shares keep their symbol and no number) and the local measures' values."""
    rows: list[dict[str, Any]] = []
    for figure in found.published:
        area = " / ".join((found.la.name, *figure.joint_with))
        rows += _point_rows("published", figure.indicator, area, figure.row.points)
        rows += _point_rows("published", figure.indicator, "England", figure.england)
    council = found.council.name if found.council else found.la.name
    for survey in found.survey or []:
        rows += _point_rows("staff survey", survey.row.indicator, council, survey.row.points)
    for local in found.measures or []:
        rows += _point_rows("local measure", local.row.indicator, council, local.row.points)
    return rows
