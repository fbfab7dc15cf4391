"""Forest and funnel plots of a meta-analysis as accessible SVG, with their numbers in a table.

The conventions (study intervals, weights, the diamond, the funnel) are in
`docs/methods/meta-analysis.md`. Unlike the charts in `core/charts.py`, these are written
by hand rather than through Altair: a forest plot's diamond spans the pooled confidence
interval and each row carries its label and "estimate [CI]" as text columns, which
Vega-Lite draws only with a quantitative row axis and polygon work-arounds, and a hand-made
SVG has exact coordinates (tested) and renders without vl-convert. Each SVG is
`role="img"` with a `<title>` and `<desc>` that say what it shows and the pooled result;
`forest_figure` and `funnel_figure` put it beside a table of every number in it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from markupsafe import Markup, escape
from scipy import stats

from whatworks.core.charts import FONT, GOVUK_BLUE, TEXT, figure
from whatworks.evidence.synthesis import MetaResult, Values

#: Measures analysed on the log scale and shown as ratios.
RATIO_MEASURES = frozenset({"RR", "OR", "HR", "IRR"})
MEASURE_NAMES = {
    "RR": "Risk ratio",
    "OR": "Odds ratio",
    "HR": "Hazard ratio",
    "IRR": "Incidence rate ratio",
    "RD": "Risk difference",
    "SMD": "Standardised mean difference (Hedges' g)",
    "MD": "Mean difference",
}
SHORT_NAMES = {"SMD": "Hedges' g", "RD": "Risk diff.", "GEN": "Estimate"}
METHOD_NAMES = {
    "FE": "fixed-effect",
    "DL": "random-effects (DerSimonian-Laird)",
    "HE": "random-effects (Hedges)",
    "PM": "random-effects (Paule-Mandel)",
    "REML": "random-effects (REML)",
}
GREY = "#505a5f"  # GOV.UK secondary text: 7:1 on white
DARK_BLUE = "#003078"
ROW = 24
CHAR = 7.2  # average width of a 13px Arial character, for laying out text columns

Transform = Callable[[float], float]


@dataclass(frozen=True)
class StudyRow:
    """One study as the forest plot and its table show it (back-transformed for ratios)."""

    label: str
    yi: float
    vi: float
    estimate: float
    ci_low: float
    ci_high: float
    weight: float  # percent of the total weight under the model


def measure_name(metric: str) -> str:
    """The measure in words ("Risk ratio"); an unknown code is shown as "Effect size"."""
    return MEASURE_NAMES.get(metric, "Effect size")


def default_transform(metric: str) -> Transform:
    """exp for ratio measures (analysed as logs), otherwise the values as they are."""
    return math.exp if metric in RATIO_MEASURES else _identity


def _identity(value: float) -> float:
    return value


def _is_exp(transform: Transform) -> bool:
    return transform is math.exp or transform is np.exp


def _arrays(yi: Values, vi: Values, result: MetaResult | None) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.size == 0 or y.size != v.size:
        raise ValueError(f"{y.size} effect sizes and {v.size} variances; give one of each.")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError("Every effect size must be finite and every variance greater than 0.")
    if result is not None:
        if result.k != y.size:
            raise ValueError(f"The result pools {result.k} studies but {y.size} were given.")
        if result.coefficients:
            raise ValueError(
                "The result has moderators, so its estimate is an intercept, not a pooled "
                "effect; plot a model without moderators."
            )
    return y, v


def study_rows(
    labels: Sequence[str],
    yi: Values,
    vi: Values,
    result: MetaResult | None = None,
    transform: Transform = _identity,
) -> list[StudyRow]:
    """Each study's estimate and confidence interval yi +/- z sqrt(vi) (z for the result's
    level, 95% without one), transformed, and its weight 1/(vi + tau^2) as a percentage."""
    y, v = _arrays(yi, vi, result)
    if len(labels) != y.size:
        raise ValueError(f"{len(labels)} labels for {y.size} studies; give one each.")
    level = result.level if result is not None else 0.95
    z = float(stats.norm.isf((1 - level) / 2))
    tau2 = result.tau2 if result is not None else 0.0
    weights = 1 / (v + tau2)
    percent = 100 * weights / weights.sum()
    return [
        StudyRow(
            label=str(label),
            yi=float(y[i]),
            vi=float(v[i]),
            estimate=transform(float(y[i])),
            ci_low=transform(float(y[i] - z * math.sqrt(v[i]))),
            ci_high=transform(float(y[i] + z * math.sqrt(v[i]))),
            weight=float(percent[i]),
        )
        for i, label in enumerate(labels)
    ]


def number(value: float, digits: int = 2) -> str:
    """A number as the plots and tables print it (a true minus sign is not used: copyable)."""
    return f"{value:.{digits}f}"


# ---------------------------------------------------------------------------------------
# axes


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    start: float
    length: float
    reverse: bool = False

    def __call__(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return self.start + (1 - share if self.reverse else share) * self.length


def _domain(values: Sequence[float], pad: float = 0.05) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    margin = (high - low) * pad
    return low - margin, high + margin


def _linear_ticks(low: float, high: float) -> list[float]:
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step)
    ticks = [round(n * step, 12) for n in range(first, math.floor(high / step) + 1)]
    return [0.0 if t == 0 else t for t in ticks]


def _ratio_ticks(low: float, high: float, scale: _Scale) -> list[float]:
    """Ratios such as 0.1, 0.2, 0.5, 1, 2, 5 (finer if the range is narrow), placed on the
    log scale at least 36 pixels apart: 1 first, then powers of ten, then the nearest to 1."""
    found: list[tuple[float, float]] = []
    for steps in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        found = [
            (m, math.log(m * 10.0**e))
            for e in range(-4, 5)
            for m in steps
            if low <= math.log(m * 10.0**e) <= high
        ]
        if len(found) >= 3:
            break
    kept: list[float] = []
    for _, tick in sorted(found, key=lambda pair: (pair[0] != 1, abs(pair[1]))):
        if all(abs(scale(tick) - scale(k)) >= 36 for k in kept):
            kept.append(tick)
    return sorted(kept)


def _ticks(low: float, high: float, scale: _Scale, ratio: bool) -> list[tuple[float, str]]:
    if ratio:
        return [(t, f"{math.exp(t):.4g}") for t in _ratio_ticks(low, high, scale)]
    ticks = _linear_ticks(low, high)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    digits = max(0, -math.floor(math.log10(step) + 1e-9))
    return [(t, f"{t:.{digits}f}") for t in ticks]


def _x_axis(scale: _Scale, y: float, ticks: Sequence[tuple[float, str]], title: str) -> str:
    parts = [
        f'<line class="axis" x1="{scale.start:.2f}" x2="{scale.start + scale.length:.2f}" '
        f'y1="{y:.2f}" y2="{y:.2f}" stroke="{TEXT}"/>'
    ]
    for value, text in ticks:
        x = scale(value)
        parts.append(
            f'<line class="tick" x1="{x:.2f}" x2="{x:.2f}" y1="{y:.2f}" y2="{y + 5:.2f}" '
            f'stroke="{TEXT}"/><text class="tick-label" x="{x:.2f}" y="{y + 19:.2f}" '
            f'text-anchor="middle">{escape(text)}</text>'
        )
    middle = scale.start + scale.length / 2
    parts.append(
        f'<text class="axis-title" x="{middle:.2f}" y="{y + 38:.2f}" '
        f'text-anchor="middle">{escape(title)}</text>'
    )
    return "".join(parts)


def _svg(kind: str, width: float, height: float, title: str, desc: str, body: str) -> Markup:
    key = hashlib.sha1(f"{kind}{title}{desc}{body}".encode()).hexdigest()[:10]
    ident = f"ww-{kind}-{key}"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ww-{kind}" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="{FONT}" font-size="13" '
        f'fill="{TEXT}"><title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>{body}</svg>'
    )


def _pooled_words(result: MetaResult, transform: Transform, name: str) -> str:
    method = METHOD_NAMES.get(result.method, result.method)
    if result.knha:
        method += " with the Knapp-Hartung adjustment"
    level = f"{100 * result.level:g}%"
    words = (
        f"The {method} pooled {name.lower()} is {number(transform(result.estimate))} "
        f"({level} confidence interval {number(transform(result.ci_low))} to "
        f"{number(transform(result.ci_high))})."
    )
    if result.pi_low is not None and result.pi_high is not None:
        words += (
            f" The {level} prediction interval for a new study is "
            f"{number(transform(result.pi_low))} to {number(transform(result.pi_high))}."
        )
    return words


# ---------------------------------------------------------------------------------------
# forest plot


def forest_svg(
    labels: Sequence[str],
    yi: Values,
    vi: Values,
    result: MetaResult | None = None,
    metric: str = "GEN",
    transform: Transform | None = None,
) -> Markup:
    """A forest plot: each study's estimate (a square sized by its weight) and confidence
    interval, the pooled estimate as a diamond spanning its confidence interval (with the
    prediction interval as a thin line), and the line of no effect (1 for ratios, else 0).

    `yi`, `vi` and `result` are on the analysis scale (log ratios for RR and OR); the axis
    is labelled on the scale of `transform` (exp for ratio measures unless given).
    """
    transform = transform or default_transform(metric)
    rows = study_rows(labels, yi, vi, result, transform)
    ratio = metric in RATIO_MEASURES and _is_exp(transform)
    name = measure_name(metric)
    level = result.level if result is not None else 0.95
    z = float(stats.norm.isf((1 - level) / 2))

    longest = max(
        [len(r.label) for r in rows] + [len(f"Pooled ({result.method})") if result else 0]
    )
    label_width = min(260.0, max(80.0, CHAR * longest + 16))
    plot_left, plot_width = label_width + 12, 300.0
    text_x = plot_left + plot_width + 16
    weight_x = text_x + 180 + 56  # right edge of the weight column
    width = weight_x + 12
    top = 44.0
    pooled_y = top + ROW * len(rows) + (ROW if result is not None else 0)
    axis_y = pooled_y + ROW * 0.75

    extent = [r.yi + s * z * math.sqrt(r.vi) for r in rows for s in (-1, 1)] + [0.0]
    if result is not None:
        extent += [result.ci_low, result.ci_high]
        extent += [b for b in (result.pi_low, result.pi_high) if b is not None]
    low, high = _domain(extent)
    scale = _Scale(low, high, plot_left, plot_width)
    null_x = scale(0.0)
    heading = f"{SHORT_NAMES.get(metric, name)} [{100 * level:g}% CI]"
    body = [
        f'<text class="heading" x="8" y="24" font-weight="bold">Study</text>'
        f'<text class="heading" x="{text_x + 180:.2f}" y="24" font-weight="bold" '
        f'text-anchor="end">{escape(heading if len(heading) < 26 else "Estimate [CI]")}</text>'
        f'<text class="heading" x="{weight_x:.2f}" y="24" font-weight="bold" '
        f'text-anchor="end">Weight</text>',
        f'<line class="no-effect" x1="{null_x:.2f}" x2="{null_x:.2f}" y1="{top - 10:.2f}" '
        f'y2="{axis_y:.2f}" stroke="{TEXT}" stroke-width="1.5" data-value="{1 if ratio else 0}"/>',
    ]
    biggest = max(r.weight for r in rows)
    for i, row in enumerate(rows):
        y = top + ROW * i + ROW / 2
        side = max(4.0, 14 * math.sqrt(row.weight / biggest))
        x = scale(row.yi)
        shown = row.label if len(row.label) <= 34 else row.label[:33] + "…"
        body.append(
            f'<g class="study" data-study="{escape(row.label)}">'
            f'<text class="study-label" x="8" y="{y + 4.5:.2f}">{escape(shown)}</text>'
            f'<line class="ci" x1="{scale(row.yi - z * math.sqrt(row.vi)):.2f}" '
            f'x2="{scale(row.yi + z * math.sqrt(row.vi)):.2f}" y1="{y:.2f}" y2="{y:.2f}" '
            f'stroke="{TEXT}" stroke-width="1.5"/>'
            f'<rect class="study-mark" x="{x - side / 2:.2f}" y="{y - side / 2:.2f}" '
            f'width="{side:.2f}" height="{side:.2f}" fill="{GOVUK_BLUE}"/>'
            f'<text class="estimate" x="{text_x + 180:.2f}" y="{y + 4.5:.2f}" '
            f'text-anchor="end">{number(row.estimate)} [{number(row.ci_low)}, '
            f"{number(row.ci_high)}]</text>"
            f'<text class="weight" x="{weight_x:.2f}" y="{y + 4.5:.2f}" '
            f'text-anchor="end">{row.weight:.1f}%</text></g>'
        )
    desc = (
        f"{name} and {100 * level:g}% confidence interval of each of {len(rows)} studies, "
        f"squares sized by weight; the vertical line marks no effect ({1 if ratio else 0})."
    )
    if result is not None:
        y = pooled_y
        if result.pi_low is not None and result.pi_high is not None:
            body.append(
                f'<line class="prediction-interval" x1="{scale(result.pi_low):.2f}" '
                f'x2="{scale(result.pi_high):.2f}" y1="{y:.2f}" y2="{y:.2f}" stroke="{GREY}" '
                'stroke-width="1.5" stroke-dasharray="4 3"/>'
            )
        left, mid, right = scale(result.ci_low), scale(result.estimate), scale(result.ci_high)
        body.append(
            f'<g class="pooled-row"><text class="study-label" x="8" y="{y + 4.5:.2f}" '
            f'font-weight="bold">Pooled ({escape(result.method)})</text>'
            f'<polygon class="pooled" points="{left:.2f},{y:.2f} {mid:.2f},{y - 7:.2f} '
            f'{right:.2f},{y:.2f} {mid:.2f},{y + 7:.2f}" fill="{DARK_BLUE}"/>'
            f'<text class="estimate" x="{text_x + 180:.2f}" y="{y + 4.5:.2f}" '
            f'text-anchor="end" font-weight="bold">{number(transform(result.estimate))} '
            f"[{number(transform(result.ci_low))}, {number(transform(result.ci_high))}]</text>"
            f'<text class="weight" x="{weight_x:.2f}" y="{y + 4.5:.2f}" text-anchor="end" '
            'font-weight="bold">100%</text></g>'
        )
        desc += " The diamond is the pooled estimate. " + _pooled_words(result, transform, name)
    axis_title = f"{name} (log scale)" if ratio else name
    body.append(_x_axis(scale, axis_y, _ticks(low, high, scale, ratio), axis_title))
    title = f"Forest plot: {name.lower()} in {len(rows)} studies"
    return _svg("forest", width, axis_y + 50, title, desc, "".join(body))


def forest_table(
    labels: Sequence[str],
    yi: Values,
    vi: Values,
    result: MetaResult | None = None,
    metric: str = "GEN",
    transform: Transform | None = None,
) -> tuple[list[str], list[list[str]]]:
    """The forest plot's numbers as table headers and rows: study, estimate, CI, weight."""
    transform = transform or default_transform(metric)
    level = f"{100 * (result.level if result is not None else 0.95):g}%"
    headers = ["Study", measure_name(metric), f"{level} CI lower", f"{level} CI upper", "Weight"]
    rows = [
        [r.label, number(r.estimate), number(r.ci_low), number(r.ci_high), f"{r.weight:.1f}%"]
        for r in study_rows(labels, yi, vi, result, transform)
    ]
    if result is not None:
        rows.append(
            [
                f"Pooled ({METHOD_NAMES.get(result.method, result.method)})",
                number(transform(result.estimate)),
                number(transform(result.ci_low)),
                number(transform(result.ci_high)),
                "100.0%",
            ]
        )
    return headers, rows


def forest_figure(
    caption: str,
    labels: Sequence[str],
    yi: Values,
    vi: Values,
    result: MetaResult | None = None,
    metric: str = "GEN",
    transform: Transform | None = None,
) -> Markup:
    """The forest plot in a captioned `<figure>` followed by a table of the same numbers."""
    headers, rows = forest_table(labels, yi, vi, result, metric, transform)
    return figure(caption, forest_svg(labels, yi, vi, result, metric, transform), headers, rows)


# ---------------------------------------------------------------------------------------
# funnel plot


def funnel_svg(
    yi: Values,
    vi: Values,
    result: MetaResult,
    metric: str = "GEN",
    transform: Transform | None = None,
) -> Markup:
    """A funnel plot: each study's effect against its standard error (0 at the top), a
    vertical line at the pooled estimate, and dashed lines at estimate +/- z se, where
    studies would fall with no heterogeneity and no small-study effects (metafor `funnel`).
    """
    transform = transform or default_transform(metric)
    y, v = _arrays(yi, vi, result)
    se = np.sqrt(v)
    ratio = metric in RATIO_MEASURES and _is_exp(transform)
    name = measure_name(metric)
    z = float(stats.norm.isf((1 - result.level) / 2))
    left, top, plot_width, plot_height = 72.0, 16.0, 420.0, 260.0
    se_max = float(se.max()) * 1.05
    low, high = _domain(
        [*y.tolist(), result.estimate - z * se_max, result.estimate + z * se_max], pad=0.03
    )
    x_scale = _Scale(low, high, left, plot_width)
    y_scale = _Scale(0.0, se_max, top, plot_height)
    bottom = top + plot_height
    centre = x_scale(result.estimate)
    body = [
        f'<polygon class="funnel" points="{centre:.2f},{top:.2f} '
        f"{x_scale(result.estimate - z * se_max):.2f},{bottom:.2f} "
        f'{x_scale(result.estimate + z * se_max):.2f},{bottom:.2f}" fill="#f3f2f1" '
        f'stroke="{GREY}" stroke-dasharray="6 4"/>',
        f'<line class="pooled" x1="{centre:.2f}" x2="{centre:.2f}" y1="{top:.2f}" '
        f'y2="{bottom:.2f}" stroke="{TEXT}" stroke-width="1.5"/>',
        f'<line class="axis" x1="{left:.2f}" x2="{left:.2f}" y1="{top:.2f}" y2="{bottom:.2f}" '
        f'stroke="{TEXT}"/>',
    ]
    for tick, text in _ticks(0.0, se_max, y_scale, ratio=False):
        ty = y_scale(tick)
        body.append(
            f'<line class="tick" x1="{left - 5:.2f}" x2="{left:.2f}" y1="{ty:.2f}" '
            f'y2="{ty:.2f}" stroke="{TEXT}"/><text class="tick-label" x="{left - 8:.2f}" '
            f'y="{ty + 4.5:.2f}" text-anchor="end">{text}</text>'
        )
    body.append(
        f'<text class="axis-title" transform="translate(18 {top + plot_height / 2:.2f}) '
        'rotate(-90)" text-anchor="middle">Standard error</text>'
    )
    for value, error in zip(y, se, strict=True):
        body.append(
            f'<circle class="study-mark" cx="{x_scale(float(value)):.2f}" '
            f'cy="{y_scale(float(error)):.2f}" r="4.5" fill="{GOVUK_BLUE}" stroke="#ffffff"/>'
        )
    axis_title = f"{name} (log scale)" if ratio else name
    body.append(_x_axis(x_scale, bottom, _ticks(low, high, x_scale, ratio), axis_title))
    desc = (
        f"{name} of each of {y.size} studies against its standard error, the most precise "
        f"at the top. The vertical line is the pooled estimate; the dashed funnel marks where "
        f"{100 * result.level:g}% of studies would fall without heterogeneity or small-study "
        "effects. " + _pooled_words(result, transform, name)
    )
    if result.egger_p is not None:
        desc += f" Egger's test for funnel asymmetry: p = {result.egger_p:.3f}."
    if result.trimfill_k0 is not None and result.trimfill_estimate is not None:
        desc += (
            f" Trim and fill estimates {result.trimfill_k0} missing studies, giving "
            f"{number(transform(result.trimfill_estimate))}."
        )
    title = f"Funnel plot: {name.lower()} in {y.size} studies"
    return _svg("funnel", left + plot_width + 24, bottom + 50, title, desc, "".join(body))


def funnel_figure(
    caption: str,
    labels: Sequence[str],
    yi: Values,
    vi: Values,
    result: MetaResult,
    metric: str = "GEN",
    transform: Transform | None = None,
) -> Markup:
    """The funnel plot in a captioned `<figure>` with a table: study, estimate, standard
    error (on the analysis scale: of the log ratio for ratio measures)."""
    transform = transform or default_transform(metric)
    y, v = _arrays(yi, vi, result)
    if len(labels) != y.size:
        raise ValueError(f"{len(labels)} labels for {y.size} studies; give one each.")
    scale_note = " (of the log ratio)" if metric in RATIO_MEASURES else ""
    headers = ["Study", measure_name(metric), f"Standard error{scale_note}"]
    rows = [
        [str(label), number(transform(float(value))), f"{math.sqrt(float(var)):.3f}"]
        for label, value, var in zip(labels, y, v, strict=True)
    ]
    return figure(caption, funnel_svg(y, v, result, metric, transform), headers, rows)
