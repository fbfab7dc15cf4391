"""Forest and funnel plots: well-formed, accessible SVG whose marks and table match a hand
calculation of each study's interval (yi +/- 1.96 sqrt(vi)) and weight (1/vi shares)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from whatworks.evidence.plots import forest_figure, forest_svg, funnel_figure, funnel_svg
from whatworks.evidence.synthesis import meta

SVG = "{http://www.w3.org/2000/svg}"
# three made-up studies on the log risk ratio scale, chosen so that no hand-rounded value
# below sits near a rounding boundary
LABELS = ["Leeds 2019", "Barnet <pilot> & co", "Doncaster 2021"]
YI = [-0.5, 0.2, -0.3]
VI = [0.04, 0.09, 0.0225]
# hand calculation, ratio scale: exp(yi), exp(yi -/+ 1.96 sqrt(vi))
#   Leeds:     exp(-0.5) = 0.6065, exp(-0.5 - 0.392) = 0.4098, exp(-0.5 + 0.392) = 0.8976
#   Barnet:    exp(0.2) = 1.2214, exp(0.2 - 0.588) = 0.6785, exp(0.2 + 0.588) = 2.1989
#   Doncaster: exp(-0.3) = 0.7408, exp(-0.3 - 0.294) = 0.5521, exp(-0.3 + 0.294) = 0.9940
# fixed-effect weights 1/vi = 25, 11.11, 44.44 of 80.56: 31.0%, 13.8%, 55.2%
HAND = [
    ["Leeds 2019", "0.61", "0.41", "0.90", "31.0%"],
    ["Barnet <pilot> & co", "1.22", "0.68", "2.20", "13.8%"],
    ["Doncaster 2021", "0.74", "0.55", "0.99", "55.2%"],
]


def parse(markup: object) -> ET.Element:
    return ET.fromstring(str(markup))


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def test_forest_svg_is_accessible_xml_with_a_mark_per_study_and_a_diamond() -> None:
    result = meta(YI, VI, method="FE")
    root = parse(forest_svg(LABELS, YI, VI, result, metric="RR"))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "risk ratio" in (title.text or "").lower()
    # the pooled risk ratio (0.75 by hand, see below) is in the description
    assert "pooled risk ratio is 0.75" in (desc.text or "")
    assert len(by_class(root, "study-mark")) == 3
    assert len(by_class(root, "pooled")) == 1
    # labels are text, escaped, not drawn as paths
    texts = [e.text for e in root.iter(f"{SVG}text")]
    assert "Barnet <pilot> & co" in texts
    assert "0.61 [0.41, 0.90]" in texts


def test_forest_marks_sit_on_the_scale_and_no_effect_is_at_ratio_one() -> None:
    result = meta(YI, VI, method="FE")
    root = parse(forest_svg(LABELS, YI, VI, result, metric="RR"))
    ticks = {
        e.text: float(e.get("x") or 0) for e in by_class(root, "tick-label") if e.text is not None
    }
    assert "1" in ticks  # ratio scale: the axis is labelled in ratios
    (line,) = by_class(root, "no-effect")
    assert float(line.get("x1") or 0) == pytest.approx(ticks["1"], abs=0.01)
    # log scale: ratio 1 sits between 0.5 and 2 at equal distances (log 2 each way)
    if "0.5" in ticks and "2" in ticks:
        assert ticks["1"] - ticks["0.5"] == pytest.approx(ticks["2"] - ticks["1"], abs=0.01)
    # each square is centred on its log estimate: x is linear in yi
    squares = by_class(root, "study-mark")
    centres = [float(s.get("x") or 0) + float(s.get("width") or 0) / 2 for s in squares]
    per_unit = (centres[1] - centres[0]) / (YI[1] - YI[0])
    assert centres[2] == pytest.approx(centres[0] + per_unit * (YI[2] - YI[0]), abs=0.02)
    assert float(line.get("x1") or 0) == pytest.approx(centres[0] - per_unit * YI[0], abs=0.02)
    # the diamond spans the pooled confidence interval
    (diamond,) = by_class(root, "pooled")
    xs = [float(p.split(",")[0]) for p in (diamond.get("points") or "").split()]
    assert min(xs) == pytest.approx(centres[0] + per_unit * (result.ci_low - YI[0]), abs=0.02)
    assert max(xs) == pytest.approx(centres[0] + per_unit * (result.ci_high - YI[0]), abs=0.02)


def test_forest_on_a_difference_scale_has_no_effect_at_zero() -> None:
    yi, vi = [0.2, 0.5, -0.1], [0.04, 0.09, 0.02]
    root = parse(forest_svg(["A", "B", "C"], yi, vi, meta(yi, vi), metric="SMD"))
    ticks = {e.text: float(e.get("x") or 0) for e in by_class(root, "tick-label")}
    (line,) = by_class(root, "no-effect")
    assert float(line.get("x1") or 0) == pytest.approx(ticks["0.0"], abs=0.01)
    assert len(by_class(root, "prediction-interval")) == 1


def test_forest_table_matches_a_hand_calculation() -> None:
    result = meta(YI, VI, method="FE")
    root = parse(forest_figure("BCG-like example", LABELS, YI, VI, result, metric="RR"))
    table = root.find(".//table")
    assert table is not None
    headers = [th.text for th in table.iter("th") if th.get("scope") == "col"]
    assert headers == ["Study", "Risk ratio", "95% CI lower", "95% CI upper", "Weight"]
    body = table.find("tbody")
    assert body is not None
    rows = [[cell.text or "" for cell in tr] for tr in body]
    assert rows[:3] == HAND
    pooled = rows[3]
    # fixed effect by hand: sum(w y) / sum(w) = (-12.5 + 2.2222 - 13.3333) / 80.5556 = -0.29310
    # se = 1/sqrt(80.5556) = 0.11142, so -0.29310 -/+ 0.21838; exp: 0.7459 [0.5996, 0.9280]
    assert pooled[1:] == ["0.75", "0.60", "0.93", "100.0%"]
    # the hand formula, for every study, straight from the numbers
    for (label, estimate, low, high, _), y, v in zip(rows[:3], YI, VI, strict=True):
        assert label in LABELS
        assert float(estimate) == pytest.approx(math.exp(y), abs=0.005)
        assert float(low) == pytest.approx(math.exp(y - 1.96 * math.sqrt(v)), abs=0.005)
        assert float(high) == pytest.approx(math.exp(y + 1.96 * math.sqrt(v)), abs=0.005)


def test_random_effects_weights_use_tau2() -> None:
    # random-effects weights are 1/(vi + tau^2) shares, with the model's tau^2
    result = meta(YI, VI, method="DL")
    assert result.tau2 > 0
    root = parse(forest_figure("example", LABELS, YI, VI, result, metric="RR"))
    shares = [1 / (v + result.tau2) for v in VI]
    expected = [f"{100 * s / sum(shares):.1f}%" for s in shares]
    body = root.find(".//table/tbody")
    assert body is not None
    cells = [tr[-1].text for tr in body][:3]
    assert cells == expected


def test_forest_without_a_result_draws_no_diamond() -> None:
    root = parse(forest_svg(LABELS, YI, VI, None, metric="RR"))
    assert len(by_class(root, "study-mark")) == 3
    assert by_class(root, "pooled") == []


def test_forest_refuses_a_meta_regression() -> None:
    result = meta(YI * 2, VI * 2, moderators={"x": [0, 1, 2, 3, 4, 6]})
    with pytest.raises(ValueError, match="moderators"):
        forest_svg(LABELS * 2, YI * 2, VI * 2, result, metric="RR")


def test_funnel_svg_has_a_point_per_study_the_pooled_line_and_the_funnel() -> None:
    result = meta(YI, VI)
    svg = funnel_svg(YI, VI, result, metric="RR")
    root = parse(svg)
    assert root.get("role") == "img" and root.find(f"{SVG}title") is not None
    points = by_class(root, "study-mark")
    assert len(points) == 3
    (pooled,) = by_class(root, "pooled")
    (funnel,) = by_class(root, "funnel")
    apex = (funnel.get("points") or "").split()[0].split(",")
    assert float(apex[0]) == pytest.approx(float(pooled.get("x1") or 0), abs=0.01)
    # standard error 0 at the top: the most precise study (Doncaster) is highest
    ys = [float(p.get("cy") or 0) for p in points]
    assert ys[2] < ys[0] < ys[1]
    table = parse(funnel_figure("funnel", LABELS, YI, VI, result, metric="RR")).find(".//table")
    assert table is not None
    body = table.find("tbody")
    assert body is not None
    first = [cell.text for cell in body[0]]
    assert first == ["Leeds 2019", "0.61", "0.200"]


def test_two_plots_on_one_page_have_different_ids() -> None:
    one = parse(forest_svg(LABELS, YI, VI, meta(YI, VI), metric="RR"))
    two = parse(forest_svg(LABELS, YI, VI, meta(YI, VI, method="FE"), metric="RR"))
    assert one.get("aria-labelledby") != two.get("aria-labelledby")
