"""Inline SVG charts: well-formed, accessible, escaped, robust to missing data, and true to it."""

from __future__ import annotations

import itertools
import math
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow.analytics.formatting import format_duration, format_number, format_percent
from supportflow.analytics.svg import (
    PALETTE,
    bar_chart,
    heatmap,
    line_chart,
    nice_ticks,
    stacked_bar_chart,
    time_ticks,
)
from supportflow.errors import ValidationFailed

NS = "{http://www.w3.org/2000/svg}"
NASTY = '<script>alert(1)</script> & "x"'
START = datetime(2024, 3, 1, tzinfo=UTC)  # a Friday
X_NAMES = ("x", "x1", "x2", "cx")
Y_NAMES = ("y", "y1", "y2", "cy")
COORDINATE = re.compile(r"-?\d+(\.\d{1,2})?")


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def find(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = root.iter(f"{NS}{tag}")
    return [el for el in found if cls is None or cls in (el.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in find(root, "text")]


def size(root: ET.Element) -> tuple[float, float]:
    _, _, width, height = (float(part) for part in (root.get("viewBox") or "").split())
    return width, height


def path_points(path: ET.Element) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d") or "")]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def assert_inside(root: ET.Element) -> None:
    """Every coordinate drawn lies in the viewBox, with at most two decimals."""
    width, height = size(root)
    slack = 0.011  # two coordinates rounded to 2 decimals each
    for el in root.iter():
        for names, limit in ((X_NAMES, width), (Y_NAMES, height)):
            for name in names:
                value = el.get(name)
                if value is not None:
                    assert COORDINATE.fullmatch(value), (el.tag, name, value)
                    assert 0 <= float(value) <= limit, (el.tag, name, value)
        if el.tag == f"{NS}rect":
            assert float(el.get("x", 0)) + float(el.get("width", 0)) <= width + slack
            assert float(el.get("y", 0)) + float(el.get("height", 0)) <= height + slack
            assert float(el.get("width", 0)) >= 0
            assert float(el.get("height", 0)) >= 0
        if el.tag == f"{NS}path":
            for x, y in path_points(el):
                assert 0 <= x <= width, (x, y)
                assert 0 <= y <= height, (x, y)


def hourly(values: list[float | None]) -> list[tuple[datetime | float, float | None]]:
    return [(START + timedelta(hours=i), value) for i, value in enumerate(values)]


def samples() -> dict[str, Callable[[], str]]:
    return {
        "line": lambda: line_chart(
            [("Backlog", hourly([40.0, 42.0, None, 45.0])), ("Baseline", hourly([41.0] * 4))],
            title="Backlog",
            y_label="Open tickets",
        ),
        "bar": lambda: bar_chart(
            [("Gold", 0.93), ("Silver", None)], title="CSAT", value_format=format_percent, goal=0.9
        ),
        "stacked": lambda: stacked_bar_chart(
            [("Support", [600.0, 3600.0]), ("Senior", [None, 7200.0])],
            ["New", "Open"],
            title="Stages",
            value_format=format_duration,
        ),
        "heatmap": lambda: heatmap(
            ["Gold", "Silver"], ["00", "01"], [[0.9, None], [0.7, 1.0]], title="Attainment"
        ),
    }


CHARTS = samples()


# -- every chart ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CHARTS)
def test_every_chart_is_a_responsive_accessible_svg(kind: str) -> None:
    root = parse(CHARTS[kind]())
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.get("width") == "100%"
    assert root.get("style") == f"max-width:{size(root)[0]:g}px"
    assert root.get("role") == "img"
    assert root[0].tag == f"{NS}title"
    assert root[0].text
    assert root[1].tag == f"{NS}desc"
    assert root[1].text
    assert root.get("aria-label", "").startswith(f"{root[0].text}. ")
    assert "sans-serif" in root.get("font-family", "")


@pytest.mark.parametrize("kind", CHARTS)
def test_every_chart_is_deterministic_and_inside_its_view_box(kind: str) -> None:
    svg = CHARTS[kind]()
    assert CHARTS[kind]() == svg
    assert_inside(parse(svg))


@pytest.mark.parametrize("kind", CHARTS)
def test_no_chart_uses_ids_or_scripts_that_could_clash_on_a_page(kind: str) -> None:
    svg = CHARTS[kind]()
    assert " id=" not in svg
    assert "<style" not in svg
    assert "<script" not in svg


def test_user_text_is_escaped_as_text_never_markup() -> None:
    charts = [
        line_chart([(NASTY, hourly([1.0, 2.0]))], title=NASTY, y_label=NASTY),
        bar_chart([(NASTY, 1.0)], title=NASTY, goal=0.5, goal_label=NASTY),
        stacked_bar_chart([(NASTY, [1.0])], [NASTY], title=NASTY),
        heatmap([NASTY], [NASTY], [[1.0]], title=NASTY),
    ]
    for svg in charts:
        assert "<script" not in svg
        root = parse(svg)
        assert not [el for el in root.iter() if "script" in el.tag]
        assert root[0].text == NASTY
        assert NASTY in root.get("aria-label", "")
        assert any(NASTY in text for text in texts(root))


def test_characters_xml_cannot_hold_become_replacement_characters() -> None:
    root = parse(bar_chart([("a\x00b\x1bc\ud800", 1.0)], title="t\x07"))
    assert "a\ufffdb\ufffdc\ufffd" in texts(root)
    assert root[0].text == "t\ufffd"


def test_a_long_label_is_cut_with_an_ellipsis_and_kept_whole_in_a_tooltip() -> None:
    label = "Customer success for enterprise accounts in Europe, Middle East and Africa " * 3
    root = parse(bar_chart([(label, 3.0)], title="Volume"))
    cut = [el for el in find(root, "text") if (el.text or "").endswith("…")]
    assert len(cut) == 1
    assert label.startswith((cut[0].text or "").removesuffix("…"))
    assert cut[0].find(f"{NS}title") is not None
    assert cut[0].find(f"{NS}title").text == label  # type: ignore[union-attr]


def test_a_short_label_has_no_tooltip() -> None:
    root = parse(bar_chart([("Gold", 3.0)], title="Volume"))
    assert [el.find(f"{NS}title") for el in find(root, "text") if el.text == "Gold"] == [None]


def test_coordinates_keep_at_most_two_decimals() -> None:
    root = parse(line_chart([("a", [(i / 7, math.pi * i) for i in range(50)])], title="pi"))
    names = (*X_NAMES, *Y_NAMES, "width", "height")
    numbers = [el.get(name) or "" for el in root.iter() for name in names if el.get(name)]
    numbers += [n for path in find(root, "path") for n in re.findall(r"[-\d.]+", path.get("d", ""))]
    assert len(numbers) > 100
    assert all(COORDINATE.fullmatch(n) for n in numbers if n != "100%"), numbers


# -- line chart -----------------------------------------------------------------------------


def test_a_line_chart_draws_every_point_it_is_given() -> None:
    series = [
        (name, hourly([float(i * k % 50) for i in range(720)]))
        for k, name in enumerate(("Backlog", "Baseline", "New"), start=1)
    ]
    root = parse(line_chart(series, title="Backlog"))
    paths = find(root, "path")
    assert [len(path_points(path)) for path in paths] == [720, 720, 720]
    assert [path.get("stroke") for path in paths] == list(PALETTE[:3])
    assert [path.find(f"{NS}title").text for path in paths] == ["Backlog", "Baseline", "New"]  # type: ignore[union-attr]
    assert_inside(root)


def test_a_gap_breaks_the_line() -> None:
    root = parse(line_chart([("a", hourly([1.0, 2.0, None, 3.0, 4.0]))], title="t"))
    (path,) = find(root, "path")
    assert (path.get("d") or "").count("M") == 2
    assert len(path_points(path)) == 4


def test_nan_and_infinity_are_gaps_like_none() -> None:
    with_none = line_chart([("a", hourly([1.0, 2.0, None, 3.0, 4.0]))], title="t")
    assert line_chart([("a", hourly([1.0, 2.0, math.nan, 3.0, 4.0]))], title="t") == with_none
    assert line_chart([("a", hourly([1.0, 2.0, math.inf, 3.0, 4.0]))], title="t") == with_none


def test_a_point_without_neighbours_is_drawn_as_a_dot() -> None:
    root = parse(line_chart([("a", hourly([1.0, None, 2.0, None, 3.0, 4.0]))], title="t"))
    assert len(find(root, "circle")) == 2
    assert len(path_points(find(root, "path")[0])) == 4


def test_a_single_point_draws_one_dot_inside_the_chart() -> None:
    root = parse(line_chart([("a", [(START, 5.0)])], title="t"))
    (dot,) = find(root, "circle")
    width, _ = size(root)
    assert 0 < float(dot.get("cx", 0)) < width
    assert_inside(root)


@pytest.mark.parametrize(
    "series",
    [[], [("a", [])], [("a", hourly([None, None]))], [("a", hourly([math.nan]))]],
    ids=["no series", "no points", "all none", "all nan"],
)
def test_a_line_chart_without_values_says_no_data(series: list[tuple[str, list]]) -> None:  # type: ignore[type-arg]
    root = parse(line_chart(series, title="Backlog"))
    assert "No data" in texts(root)
    assert not find(root, "path")
    assert "no data" in (root[1].text or "")


def test_the_value_axis_starts_at_zero_for_counts() -> None:
    root = parse(line_chart([("a", hourly([100.0, 120.0]))], title="t"))
    assert "0" in texts(root)


def test_negative_values_get_an_axis_below_zero() -> None:
    root = parse(line_chart([("a", [(0, -3.5), (1, 2.0), (2, 4.25)])], title="t", height=260))
    assert {"-4", "0", "4"} <= set(texts(root))
    assert_inside(root)


def test_all_zero_values_draw_a_flat_line_on_a_zero_to_one_axis() -> None:
    root = parse(line_chart([("a", hourly([0.0, 0.0, 0.0]))], title="t"))
    (path,) = find(root, "path")
    assert len({y for _, y in path_points(path)}) == 1
    assert {"0", "1"} <= set(texts(root))


def test_a_month_of_hours_is_labelled_on_mondays() -> None:
    root = parse(line_chart([("a", hourly([1.0] * 720))], title="t"))
    assert [t for t in texts(root) if "Mar" in t] == ["Mar 4", "Mar 11", "Mar 18", "Mar 25"]


def test_a_day_of_hours_is_labelled_on_the_clock_with_the_date_at_midnight() -> None:
    points = [(START + timedelta(hours=12 + i), 1.0) for i in range(25)]
    labels = texts(parse(line_chart([("a", points)], title="t")))
    assert "Mar 2" in labels
    assert {"12:00", "18:00", "06:00"} <= set(labels)


def test_the_summary_names_each_series_and_its_range() -> None:
    root = parse(line_chart([("Backlog", hourly([3.0, 9.0, 4.0])), ("Idle", [])], title="t"))
    desc = root[1].text or ""
    assert "2024-03-01 00:00 UTC to 2024-03-01 02:00 UTC" in desc
    assert "Backlog: 3 values, lowest 3, highest 9, last 4" in desc
    assert "Idle: no data" in desc


def test_many_legend_entries_wrap_and_make_the_chart_taller() -> None:
    series = [(f"Series with a longish name {i}", hourly([float(i)])) for i in range(12)]
    root = parse(line_chart(series, title="t", width=300, height=200))
    assert size(root)[1] > 200
    assert_inside(root)


def test_line_chart_refuses_mixed_x_kinds_naming_the_point() -> None:
    with pytest.raises(ValidationFailed) as caught:
        line_chart([("a", [(START, 1.0)]), ("b", [(2.0, 1.0)])], title="t")
    assert caught.value.field == "series[1].points[0].x"


def test_line_chart_refuses_naive_datetimes() -> None:
    with pytest.raises(ValidationFailed) as caught:
        line_chart([("a", [(datetime(2024, 3, 1), 1.0)])], title="t")
    assert caught.value.field == "series[0].points[0].x"
    assert "timezone-aware" in caught.value.reason


@pytest.mark.parametrize(
    ("series", "field"),
    [
        ([("a", [(START, "1")])], "series[0].points[0].y"),
        ([("a", [(START, True)])], "series[0].points[0].y"),
        ([("a", [(START,)])], "series[0].points[0]"),
        ([("a", [(math.nan, 1.0)])], "series[0].points[0].x"),
        ([(1, [])], "series[0].name"),
        ([("a", [], "extra")], "series[0]"),
        ([("a", 5)], "series[0].points"),
        ("abc", "series"),
    ],
)
def test_line_chart_refuses_wrong_types_naming_the_field(series: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        line_chart(series, title="t")  # type: ignore[arg-type]
    assert caught.value.field == field


def test_line_chart_accepts_lists_and_ints_as_points() -> None:
    as_tuples = line_chart([("a", [(0, 1), (1, 3)])], title="t")
    assert line_chart([("a", [[0, 1], [1, 3]])], title="t") == as_tuples  # type: ignore[list-item]


@pytest.mark.parametrize(("width", "height"), [(100, 260), (720, 10), (True, 260), (720.5, 260)])
def test_line_chart_refuses_unusable_sizes(width: object, height: object) -> None:
    with pytest.raises(ValidationFailed):
        line_chart([], title="t", width=width, height=height)  # type: ignore[arg-type]


def test_a_month_of_hourly_points_in_three_series_renders_in_milliseconds() -> None:
    series = [(name, hourly([float(i % 97) for i in range(720)])) for name in "abc"]
    best = math.inf
    for _ in range(5):
        started = time.perf_counter()
        line_chart(series, title="Backlog")
        best = min(best, time.perf_counter() - started)
    assert best < 0.05  # about 3 ms on a laptop; the bound only catches accidental slowness


# -- bar chart ------------------------------------------------------------------------------


def test_one_bar_per_value_and_no_data_for_none() -> None:
    root = parse(bar_chart([("a", 3.0), ("b", None), ("c", 1.0), ("d", None)], title="t"))
    assert len(find(root, "rect", "sf-bar")) == 2
    assert texts(root).count("no data") == 2


def test_bar_lengths_are_proportional_to_values() -> None:
    root = parse(bar_chart([("a", 50.0), ("b", 100.0)], title="t"))
    half, whole = (float(bar.get("width", 0)) for bar in find(root, "rect", "sf-bar"))
    assert whole == pytest.approx(2 * half, abs=0.02)


def test_the_height_grows_with_the_number_of_bars() -> None:
    three = size(parse(bar_chart([(str(i), 1.0) for i in range(3)], title="t")))[1]
    ten = size(parse(bar_chart([(str(i), 1.0) for i in range(10)], title="t")))[1]
    assert ten - three == pytest.approx(7 * 26)


def test_the_goal_is_a_dashed_line_at_its_value_with_its_label() -> None:
    root = parse(
        bar_chart(
            [("Gold", 1.0)],
            title="t",
            value_format=format_percent,
            goal=0.9,
            goal_label="CSAT goal",
        )
    )
    (goal,) = [line for line in find(root, "line") if line.get("stroke-dasharray")]
    (bar,) = find(root, "rect", "sf-bar")
    left, length = float(bar.get("x", 0)), float(bar.get("width", 0))
    assert float(goal.get("x1", 0)) == pytest.approx(left + 0.9 * length, abs=0.02)
    assert "CSAT goal 90%" in texts(root)
    assert "CSAT goal 90%." in (root[1].text or "")


def test_the_goal_widens_the_axis_when_above_every_value() -> None:
    root = parse(bar_chart([("a", 10.0)], title="t", goal=35.0))
    assert "40" in texts(root)
    assert_inside(root)


def test_a_negative_bar_ends_at_zero_and_extends_left() -> None:
    root = parse(bar_chart([("up", 12.0), ("down", -4.5)], title="t"))
    up, down = find(root, "rect", "sf-bar")
    assert float(down.get("x", 0)) + float(down.get("width", 0)) == pytest.approx(
        float(up.get("x", 0)), abs=0.02
    )
    assert "-4.5" in texts(root)
    assert_inside(root)


def test_all_zero_bars_are_drawn_with_no_length() -> None:
    root = parse(bar_chart([("a", 0.0), ("b", 0.0)], title="t"))
    assert [bar.get("width") for bar in find(root, "rect", "sf-bar")] == ["0", "0"]
    assert_inside(root)


def test_bars_all_none_say_no_data_on_each_row() -> None:
    root = parse(bar_chart([("a", None), ("b", math.nan), ("c", -math.inf)], title="t"))
    assert not find(root, "rect", "sf-bar")
    assert texts(root).count("no data") == 3


def test_no_bars_say_no_data() -> None:
    root = parse(bar_chart([], title="t", goal=0.9))
    assert "No data" in texts(root)


def test_each_bar_has_a_tooltip_with_its_formatted_value() -> None:
    root = parse(bar_chart([("Gold", 0.912)], title="t", value_format=format_percent))
    assert [bar.find(f"{NS}title").text for bar in find(root, "rect", "sf-bar")] == [  # type: ignore[union-attr]
        "Gold: 91.2%"
    ]


@pytest.mark.parametrize(
    ("bars", "goal", "field"),
    [
        ([("a", "1")], None, "bars[0].value"),
        ([("a", 1.0), ("b",)], None, "bars[1]"),
        ([(None, 1.0)], None, "bars[0].label"),
        ([("a", 1.0)], "high", "goal"),
    ],
)
def test_bar_chart_refuses_wrong_types_naming_the_field(
    bars: object, goal: object, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        bar_chart(bars, title="t", goal=goal)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_value_format_that_is_not_callable_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        bar_chart([], title="t", value_format="%")  # type: ignore[arg-type]
    assert caught.value.field == "value_format"


# -- stacked bar chart ----------------------------------------------------------------------


STAGES = ["New", "Open", "Waiting", "On hold"]


def test_one_segment_per_non_zero_value() -> None:
    rows: list[tuple[str, list[float | None]]] = [("a", [1.0, 0.0, 2.0, None]), ("b", [1.0] * 4)]
    root = parse(stacked_bar_chart(rows, STAGES, title="t"))
    assert len(find(root, "rect", "sf-segment")) == 6


def test_segments_are_laid_end_to_end_in_segment_order_and_colours() -> None:
    root = parse(stacked_bar_chart([("a", [1.0, 2.0, 3.0, 4.0])], STAGES, title="t"))
    segments = find(root, "rect", "sf-segment")
    assert [s.get("fill") for s in segments] == list(PALETTE[:4])
    for before, after in itertools.pairwise(segments):
        end = float(before.get("x", 0)) + float(before.get("width", 0))
        assert end == pytest.approx(float(after.get("x", 0)), abs=0.02)
    widths = [float(s.get("width", 0)) for s in segments]
    assert widths[3] == pytest.approx(4 * widths[0], abs=0.05)


def test_the_legend_names_every_segment() -> None:
    root = parse(stacked_bar_chart([("a", [1.0, 2.0, 3.0, 4.0])], STAGES, title="t"))
    assert set(STAGES) <= set(texts(root))


def test_each_row_ends_with_its_total() -> None:
    rows: list[tuple[str, list[float | None]]] = [("a", [600.0, 3000.0, None, 0.0])]
    root = parse(stacked_bar_chart(rows, STAGES, title="t", value_format=format_duration))
    assert "1 h" in texts(root)
    tips = [s.find(f"{NS}title").text for s in find(root, "rect", "sf-segment")]  # type: ignore[union-attr]
    assert tips == [
        "a · New: 10 min (16.7% of 1 h)",
        "a · Open: 50 min (83.3% of 1 h)",
    ]


def test_a_duration_axis_ticks_on_whole_hours() -> None:
    rows: list[tuple[str, list[float | None]]] = [
        ("a", [1800.0, 7200.0, 72000.0, 5400.0]),
        ("b", [900.0, 10800.0, 108000.0, None]),
    ]
    root = parse(stacked_bar_chart(rows, STAGES, title="t", value_format=format_duration))
    assert {"0", "10 h", "20 h", "30 h", "40 h"} <= set(texts(root))


def test_negative_segments_stack_left_of_zero() -> None:
    root = parse(stacked_bar_chart([("a", [2.0, -1.0, 3.0, -2.0])], STAGES, title="t"))
    new, open_, waiting, hold = find(root, "rect", "sf-segment")
    zero = float(new.get("x", 0))
    assert float(open_.get("x", 0)) + float(open_.get("width", 0)) == pytest.approx(zero, abs=0.02)
    assert float(hold.get("x", 0)) < float(open_.get("x", 0))
    assert float(waiting.get("x", 0)) > zero
    assert_inside(root)


def test_a_row_without_values_says_no_data() -> None:
    root = parse(stacked_bar_chart([("a", [None] * 4)], STAGES, title="t"))
    assert not find(root, "rect", "sf-segment")
    assert "no data" in texts(root)


def test_no_rows_say_no_data_and_still_show_the_legend() -> None:
    root = parse(stacked_bar_chart([], STAGES, title="t"))
    assert "No data" in texts(root)
    assert set(STAGES) <= set(texts(root))


def test_a_row_with_the_wrong_number_of_values_names_the_row() -> None:
    with pytest.raises(ValidationFailed) as caught:
        stacked_bar_chart([("a", [1.0] * 4), ("b", [1.0] * 3)], STAGES, title="t")
    assert caught.value.field == "rows[1].values"
    assert "(4), got 3" in caught.value.reason


@pytest.mark.parametrize(
    ("rows", "segments", "field"),
    [
        ([("a", [1.0, "x"])], ["s", "t"], "rows[0].values[1]"),
        ([("a", 1.0)], ["s"], "rows[0].values"),
        ([("a", [1.0])], [3], "segments[0]"),
        ([("a", [1.0])], "s", "segments"),
    ],
)
def test_stacked_bar_chart_refuses_wrong_types_naming_the_field(
    rows: object, segments: object, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        stacked_bar_chart(rows, segments, title="t")  # type: ignore[arg-type]
    assert caught.value.field == field


# -- heatmap --------------------------------------------------------------------------------


def cells_of(root: ET.Element) -> list[ET.Element]:
    return find(root, "rect", "sf-cell")


def test_one_cell_per_value_and_empty_cells_for_none() -> None:
    values = [[0.9, None, 0.8], [None, 1.0, math.nan]]
    root = parse(heatmap(["Gold", "Silver"], ["00", "01", "02"], values, title="t"))
    assert len(cells_of(root)) == 6
    assert len(find(root, "rect", "sf-empty")) == 3
    assert_inside(root)


def test_better_values_are_blue_and_worse_ones_orange() -> None:
    root = parse(heatmap(["a"], ["lo", "mid", "hi"], [[0.5, 0.75, 1.0]], title="t"))
    assert [cell.get("fill") for cell in cells_of(root)] == ["#D55E00", "#EEEEEE", "#0072B2"]


def test_low_is_good_flips_the_colours() -> None:
    root = parse(heatmap(["a"], ["lo", "hi"], [[60.0, 7200.0]], title="t", low_is_good=True))
    assert [cell.get("fill") for cell in cells_of(root)] == ["#0072B2", "#D55E00"]
    assert "lower is better. Worst: a · hi 7,200." in (root[1].text or "")


def test_equal_values_are_neutral() -> None:
    root = parse(heatmap(["a", "b"], ["x"], [[0.9], [0.9]], title="t"))
    assert {cell.get("fill") for cell in cells_of(root)} == {"#EEEEEE"}


def test_a_fixed_domain_colours_against_it_not_the_data() -> None:
    root = parse(heatmap(["a"], ["x", "y"], [[0.5, 1.0]], title="t", domain=(0.0, 1.0)))
    assert [cell.get("fill") for cell in cells_of(root)] == ["#EEEEEE", "#0072B2"]


def test_values_are_written_in_the_cells_only_when_all_fit() -> None:
    wide = parse(heatmap(["a"], ["x", "y"], [[0.5, 1.0]], title="t", value_format=format_percent))
    written = [el.text for el in find(wide, "text") if el.get("font-size") == "10"]
    assert written == ["50%", "100%"]
    hours = [f"{h:02d}" for h in range(24)]
    narrow = parse(heatmap(["a"], hours, [[0.123456] * 24], title="t", value_format=format_percent))
    assert not [el for el in find(narrow, "text") if el.get("font-size") == "10"]
    assert all(cell.find(f"{NS}title") is not None for cell in cells_of(narrow))


def test_column_labels_are_thinned_when_they_do_not_fit() -> None:
    columns = [f"2024-03-{day:02d}" for day in range(1, 31)]
    root = parse(heatmap(["a"], columns, [[1.0] * 30], title="t"))
    shown = [t for t in texts(root) if t.startswith("2024")]
    assert 1 < len(shown) < 30
    assert shown[0] == "2024-03-01"


@pytest.mark.parametrize(
    ("rows", "columns"), [([], []), (["a"], []), ([], ["x"])], ids=["none", "no columns", "no rows"]
)
def test_an_empty_heatmap_says_no_data(rows: list[str], columns: list[str]) -> None:
    values: list[list[float | None]] = [[] for _ in rows]
    root = parse(heatmap(rows, columns, values, title="t"))
    assert "No data" in texts(root)


def test_all_none_cells_are_all_empty() -> None:
    root = parse(heatmap(["a"], ["x", "y"], [[None, None]], title="t"))
    assert len(find(root, "rect", "sf-empty")) == 2
    assert "0 of 2 cells with data" in (root[1].text or "")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ([[1.0, 2.0]], "values"),
        ([[1.0, 2.0], [1.0]], "values[1]"),
        ([[1.0, 2.0], [1.0, "2"]], "values[1][1]"),
        ([[1.0, 2.0], 3.0], "values[1]"),
    ],
)
def test_heatmap_refuses_wrong_shapes_naming_the_field(values: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        heatmap(["a", "b"], ["x", "y"], values, title="t")  # type: ignore[arg-type]
    assert caught.value.field == field


def test_heatmap_refuses_a_domain_that_is_not_two_numbers() -> None:
    with pytest.raises(ValidationFailed) as caught:
        heatmap(["a"], ["x"], [[1.0]], title="t", domain=(0.0, math.nan))
    assert caught.value.field == "domain[1]"


# -- formatting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45, "45 s"),
        (720, "12 min"),
        (12_600, "3.5 h"),
        (181_440, "2.1 d"),
        (0, "0 s"),
        (1.5, "1.5 s"),
        (59.96, "1 min"),  # rounds up into the next unit
        (90, "1.5 min"),
        (3_599, "1 h"),
        (36_000, "10 h"),
        (86_399, "1 d"),
        (14 * 86_400, "14 d"),
        (-300, "-5 min"),
        (-0.01, "0 s"),
        (None, "—"),
        (math.nan, "—"),
        (math.inf, "—"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("fraction", "text"),
    [(0.9123, "91.2%"), (1.0, "100%"), (0.0, "0%"), (0.075, "7.5%"), (-0.0001, "0%"), (None, "—")],
)
def test_format_percent(fraction: float | None, text: str) -> None:
    assert format_percent(fraction) == text


def test_format_percent_with_no_decimals() -> None:
    assert format_percent(0.916, decimals=0) == "92%"


@pytest.mark.parametrize(
    ("value", "text"),
    [(1234.4, "1,234"), (12.345, "12.3"), (0.5, "0.5"), (0.0, "0"), (-3.0, "-3"), (2e13, "2e+13")],
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


# -- ticks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "count", "ticks"),
    [
        (0, 77, 5, [0, 20, 40, 60, 80]),
        (-3.5, 4.25, 5, [-4, -2, 0, 2, 4, 6]),
        (0, 0.93, 6, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0, 0, 6, [0, 1]),
        (-2, 0, 6, [-2, -1.5, -1, -0.5, 0]),
        (0.1, 0.3, 3, [0.1, 0.2, 0.3]),
    ],
)
def test_nice_ticks_examples(low: float, high: float, count: int, ticks: list[float]) -> None:
    assert nice_ticks(low, high, count) == ticks


def test_nice_ticks_give_room_around_a_flat_range() -> None:
    ticks = nice_ticks(40, 40)
    assert ticks[0] < 40 < ticks[-1]


def is_nice(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 5, 10))


@given(
    st.floats(-1e12, 1e12, allow_subnormal=False),
    st.floats(-1e12, 1e12, allow_subnormal=False),
    st.integers(2, 9),
)
def test_nice_ticks_cover_the_range_evenly_with_2_to_10_round_steps(
    a: float, b: float, count: int
) -> None:
    low, high = min(a, b), max(a, b)
    ticks = nice_ticks(low, high, count)
    assert 2 <= len(ticks) <= min(count + 1, 10)
    steps = [after - before for before, after in itertools.pairwise(ticks)]
    step = steps[0]
    assert step > 0
    assert is_nice(step)
    assert all(math.isclose(s, step, rel_tol=1e-6, abs_tol=1e-9 * step) for s in steps)
    assert ticks[0] <= low + 1e-9 * step
    assert ticks[-1] >= high - 1e-9 * step


@pytest.mark.parametrize(("low", "high", "count"), [(math.nan, 1, 6), (0, 1, 1), (0, 1, 10)])
def test_nice_ticks_refuses_what_has_no_ticks(low: float, high: float, count: int) -> None:
    with pytest.raises(ValidationFailed):
        nice_ticks(low, high, count)


def test_time_ticks_over_a_month_fall_on_monday_midnights() -> None:
    ticks = time_ticks(START, START + timedelta(days=30))
    assert ticks == [datetime(2024, 3, d, tzinfo=UTC) for d in (4, 11, 18, 25)]


def test_time_ticks_over_six_hours_fall_on_whole_hours() -> None:
    ticks = time_ticks(START + timedelta(minutes=10), START + timedelta(hours=6, minutes=10))
    assert [t.hour for t in ticks] == [1, 2, 3, 4, 5, 6]
    assert all(t.minute == 0 for t in ticks)


def test_time_ticks_follow_the_wall_clock_of_the_start() -> None:
    plus_two = timezone(timedelta(hours=2))
    start = datetime(2024, 3, 1, 5, tzinfo=plus_two)
    ticks = time_ticks(start, start + timedelta(days=4))
    assert ticks
    assert all((t.hour, t.tzinfo) == (0, plus_two) for t in ticks)


def test_time_ticks_refuse_naive_datetimes() -> None:
    with pytest.raises(ValidationFailed) as caught:
        time_ticks(datetime(2024, 3, 1), START)
    assert caught.value.field == "start"


@given(
    st.datetimes(datetime(2000, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    st.integers(0, 400 * 86_400),
    st.integers(2, 9),
)
def test_time_ticks_are_inside_the_range_and_evenly_spaced(
    start: datetime, seconds: int, count: int
) -> None:
    end = start + timedelta(seconds=seconds)
    ticks = time_ticks(start, end, count)
    assert len(ticks) <= count + 1
    assert all(start <= t <= end for t in ticks)
    gaps = {after - before for before, after in itertools.pairwise(ticks)}
    assert len(gaps) <= 1


# -- properties of every chart --------------------------------------------------------------


labels = st.text(max_size=60)
values = st.one_of(st.none(), st.floats())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(labels, st.lists(st.tuples(st.floats(-1e6, 1e6), values), max_size=30)),
        max_size=4,
    ),
    st.integers(240, 1200),
)
def test_any_line_chart_is_well_formed_and_inside_its_view_box(
    series: list[tuple[str, list[tuple[float, float | None]]]], width: int
) -> None:
    root = parse(line_chart(series, title="t", width=width))
    assert_inside(root)
    drawn = sum(len(path_points(path)) for path in find(root, "path"))
    finite = sum(1 for _, points in series for _, y in points if y is not None and math.isfinite(y))
    assert drawn == finite


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
            values,
        ),
        max_size=30,
    )
)
def test_any_time_line_chart_is_well_formed_and_inside_its_view_box(
    points: list[tuple[datetime, float | None]],
) -> None:
    assert_inside(parse(line_chart([("a", points)], title="t")))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(labels, values), max_size=12), values, labels, st.integers(240, 1200))
def test_any_bar_chart_is_well_formed_and_inside_its_view_box(
    bars: list[tuple[str, float | None]], goal: float | None, title: str, width: int
) -> None:
    root = parse(bar_chart(bars, title=title, goal=goal, width=width))
    assert_inside(root)
    finite = [v for _, v in bars if v is not None and math.isfinite(v)]
    assert len(find(root, "rect", "sf-bar")) == len(finite)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 5).flatmap(
        lambda n: st.tuples(
            st.lists(labels, min_size=n, max_size=n),
            st.lists(st.tuples(labels, st.lists(values, min_size=n, max_size=n)), max_size=8),
        )
    ),
    st.integers(240, 1200),
)
def test_any_stacked_bar_chart_is_well_formed_and_inside_its_view_box(
    shape: tuple[list[str], list[tuple[str, list[float | None]]]], width: int
) -> None:
    segments, rows = shape
    root = parse(stacked_bar_chart(rows, segments, title="t", width=width))
    assert_inside(root)
    drawn = [v for _, vs in rows for v in vs if v is not None and math.isfinite(v) and v != 0]
    assert len(find(root, "rect", "sf-segment")) == len(drawn)


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(st.integers(0, 6), st.integers(0, 30)).flatmap(
        lambda shape: st.tuples(
            st.lists(labels, min_size=shape[0], max_size=shape[0]),
            st.lists(labels, min_size=shape[1], max_size=shape[1]),
            st.lists(
                st.lists(values, min_size=shape[1], max_size=shape[1]),
                min_size=shape[0],
                max_size=shape[0],
            ),
        )
    ),
    st.booleans(),
    st.integers(240, 1200),
)
def test_any_heatmap_is_well_formed_and_inside_its_view_box(
    grid: tuple[list[str], list[str], list[list[float | None]]], low_is_good: bool, width: int
) -> None:
    rows, columns, cells = grid
    root = parse(heatmap(rows, columns, cells, title="t", low_is_good=low_is_good, width=width))
    assert_inside(root)
    if rows and columns:
        assert len(cells_of(root)) == len(rows) * len(columns)
        empty = sum(1 for row in cells for v in row if v is None or not math.isfinite(v))
        assert len(find(root, "rect", "sf-empty")) == empty
