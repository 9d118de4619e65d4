"""The plan-comparison charts: what they draw matches the numbers they are given.

Each chart is checked for a title and labelled axes, for names drawn as plain
text (HTML, Markdown and mathtext in page and plan names), for an empty input
that says so, and for the one thing it must get right: interval bars at the
given bounds, hollow markers on small samples, heatmap columns that still add
up after pages are gathered, boxes on exactly the cells whose interval excludes
zero, identical drawings on identical data.
"""

import matplotlib

matplotlib.use("Agg")

import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from journey_utils import paths, plots  # noqa: E402
from tests.test_report_build import MATH, SCRIPT  # noqa: E402


@pytest.fixture(autouse=True)
def style():
    with matplotlib.rc_context():
        plots.use_report_style()
        yield
    plt.close("all")


def labelled(ax, title, xlabel):
    ax.figure.canvas.draw()  # mathtext would fail on MATH if it were enabled
    assert ax.get_title() == title and ax.get_xlabel() == xlabel
    return ax


def tick_texts(ax, axis="y"):
    return [t.get_text() for t in (ax.get_yticklabels() if axis == "y" else ax.get_xticklabels())]


def png(ax) -> bytes:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# ----------------------------------------------------------------- forest plot


def findings():
    return pd.DataFrame({
        "label": [f"1. {MATH}", f"2. {SCRIPT}", "3. Pricing"],
        "kind": ["presence", "sequence", "presence"],
        "effect": [0.45, -0.31, 0.1],
        "effect_low": [0.41, -0.36, -0.05],
        "effect_high": [0.5, -0.26, 0.3],
        "small_sample": [False, False, True],
    })


def test_forest_draws_each_interval_on_a_fixed_scale_with_hollow_small_samples():
    table = findings()
    ax = labelled(plots.effect_forest(table, title="Findings", xlabel="Points", hue="kind", legend="Kind"),
                  "Findings", "Points")
    assert tick_texts(ax) == [f"1. {MATH}", f"2. {SCRIPT}", "3. Pricing"]
    assert tuple(float(v) for v in ax.get_xlim()) == (-1.0, 1.0)
    assert ax.get_ylim()[0] > ax.get_ylim()[1], "first finding on top"
    faces = {float(y): to_rgba(line.get_markerfacecolor())
             for line in ax.lines if line.get_marker() in ("o", "s") for y in line.get_ydata()}
    assert sorted(faces) == [0.0, 1.0, 2.0]
    assert [faces[float(row)] == to_rgba("white") for row in range(3)] == table["small_sample"].tolist()
    # Each error bar spans exactly the interval.
    spans = sorted((float(s[0][0]), float(s[1][0]), float(s[0][1]))
                   for c in ax.collections for s in c.get_segments())
    expected = sorted(zip(table["effect_low"], table["effect_high"], range(3)))
    assert np.allclose(spans, expected)
    assert any("small sample" in t.get_text() for t in ax.texts)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["presence", "sequence"]


# ------------------------------------------------------------- interval dots


def test_interval_dots_put_each_plan_at_its_share_with_its_interval():
    table = pd.DataFrame({
        "page": ["Coupon", "Coupon", SCRIPT, SCRIPT],
        "plan": ["Annual", MATH, "Annual", MATH],
        "share": [0.6, 0.1, 0.3, 0.5],
        "low": [0.55, 0.05, 0.25, 0.2],
        "high": [0.65, 0.2, 0.35, 0.8],
        "small": [False, True, False, True],
    })
    ax = plots.interval_dots(table, category="page", group="plan", value="share", low="low", high="high",
                             small="small", title="Pages", xlabel="Share of journeys", legend="Plan")
    labelled(ax, "Pages", "Share of journeys")
    assert tick_texts(ax) == ["Coupon", SCRIPT]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Annual", MATH]
    spans = sorted((round(float(s[0][0]), 6), round(float(s[1][0]), 6))
                   for c in ax.collections for s in c.get_segments())
    assert spans == sorted(zip(table["low"], table["high"]))
    hollow = [line for line in ax.lines if line.get_marker() == "o"
              and to_rgba(line.get_markerfacecolor()) == to_rgba("white")]
    assert sorted(float(x) for line in hollow for x in line.get_xdata()) == [0.1, 0.5]


# ------------------------------------------------------------ position strips


def test_position_strips_mark_the_median_and_draw_the_same_every_time():
    positions = pd.DataFrame({"plan": ["A"] * 20 + [SCRIPT] * 3,
                              "position": np.r_[np.linspace(0, 1, 20), [0.2, 0.4, 0.9]]})
    medians = pd.DataFrame({"plan": ["A", SCRIPT], "median": [0.5, 0.4], "low": [0.3, np.nan],
                            "high": [0.7, np.nan]})
    ax = plots.position_strips(positions, medians, title="Pricing", xlabel="Position")
    labelled(ax, "Pricing", "Position")
    assert tick_texts(ax) == ["A", SCRIPT]
    diamonds = [line for line in ax.lines if line.get_marker() == "D" and len(line.get_xdata()) == 1]
    assert sorted((float(d.get_xdata()[0]), float(d.get_ydata()[0])) for d in diamonds) == [(0.4, 1.0), (0.5, 0.0)]
    points = np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets()) > 1])
    assert len(points) == 23 and np.all(np.abs(points[:20, 1]) < 0.5), "each dot on its plan's row"
    again = labelled(plots.position_strips(positions, medians, title="Pricing", xlabel="Position"), "Pricing",
                     "Position")
    assert png(ax) == png(again), "the jitter is seeded"


# ------------------------------------------------------------------- heatmaps


def step_table():
    journeys = pd.DataFrame({
        "user_journey": ["A-B-C-D", "A-C", "B-D-E", f"{SCRIPT}-A", "A"],
        "subscription_type": ["x"] * 5,
    })
    return paths.step_matrix(journeys, steps=3)


def mesh_values(ax) -> np.ndarray:
    mesh = next(c for c in ax.collections if hasattr(c, "get_array") and c.get_array() is not None)
    return np.asarray(mesh.get_array()).reshape(len(ax.get_yticks()), len(ax.get_xticks()))


def test_share_heatmap_gathers_the_rest_and_keeps_every_column_whole():
    ax = plots.share_heatmap(step_table(), column="step", max_pages=2, title="Steps", xlabel="Step")
    labelled(ax, "Steps", "Step")
    rows = tick_texts(ax)
    assert rows[-2:] == [plots.OTHER_PAGES, paths.END], "gathered pages, then the end state, last"
    assert rows[:2] == ["A", "B"], "the pages with the largest shares first"
    assert np.allclose(mesh_values(ax).sum(axis=0), 1.0)
    assert tick_texts(ax, "x") == ["1", "2", "3"]


def test_share_heatmap_keeps_the_pages_it_is_given_in_order():
    ax = plots.share_heatmap(step_table(), column="step", pages=["D", SCRIPT, "Z"], title="t", xlabel="Step")
    assert tick_texts(ax)[:3] == ["D", SCRIPT, "Z"]
    assert np.allclose(mesh_values(ax)[2], 0.0), "a page absent from this plan is a row of zeros"
    assert np.allclose(mesh_values(ax).sum(axis=0), 1.0)


def test_difference_heatmap_boxes_exactly_the_cells_whose_interval_excludes_zero():
    journeys = pd.DataFrame({"user_journey": ["A-B"] * 40 + ["B-A"] * 38 + ["B"] * 2,
                             "subscription_type": ["x"] * 40 + ["y"] * 40})
    difference = paths.step_matrix_difference(journeys, "x", "y", steps=2)
    ax = plots.difference_heatmap(difference, column="step", title="x minus y", xlabel="Step")
    labelled(ax, "x minus y", "Step")
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    clear = ((difference["difference_low"] > 0) | (difference["difference_high"] < 0)).sum()
    assert len(boxes) == clear > 0
    values = mesh_values(ax)
    for box in boxes:
        x, y = box.get_xy()
        assert values[int(y), int(x)] != 0


@pytest.mark.parametrize("draw", [
    lambda: plots.effect_forest(findings().iloc[:0], title="t", xlabel="x"),
    lambda: plots.interval_dots(pd.DataFrame(columns=["p", "g", "v", "l", "h"]), category="p", group="g",
                                value="v", low="l", high="h", title="t", xlabel="x"),
    lambda: plots.position_strips(pd.DataFrame(columns=["plan", "position"]),
                                  pd.DataFrame(columns=["plan", "median", "low", "high"]), title="t", xlabel="x"),
    lambda: plots.share_heatmap(step_table().iloc[:0], column="step", title="t", xlabel="x"),
    lambda: plots.difference_heatmap(pd.DataFrame(columns=["step", "page", "difference"]), column="step",
                                     title="t", xlabel="x"),
    lambda: plots.coverage_curves(pd.DataFrame(columns=["plan", "rank", "cumulative_share"]), title="t",
                                  xlabel="x", ylabel="y"),
    lambda: plots.dumbbell(pd.DataFrame(columns=["First", "Last"]), title="t", xlabel="x"),
])
def test_comparison_charts_of_nothing_say_so(draw):
    with pytest.warns(plots.EmptyChartWarning, match="chart 't' has no data to show"):
        ax = draw()
    assert ax.get_title() == "t" and any("No data" in t.get_text() for t in ax.texts)


def test_position_strips_draw_at_most_max_points_per_plan_the_same_every_time():
    rng = np.random.default_rng(1)
    positions = pd.DataFrame({"plan": ["A"] * 5000 + ["B"] * 30, "position": rng.random(5030)})
    medians = pd.DataFrame({"plan": ["A", "B"], "median": [0.5, 0.4], "low": [0.45, 0.3], "high": [0.55, 0.5]})
    ax = plots.position_strips(positions, medians, title="t", xlabel="x", max_points=200)
    drawn = [len(c.get_offsets()) for c in ax.collections if len(c.get_offsets()) > 1]
    assert drawn == [200, 30]
    a = ax.collections[0].get_offsets()[:, 0]
    assert set(np.round(a, 12)) <= set(np.round(positions["position"].to_numpy()[:5000], 12))
    again = plots.position_strips(positions, medians, title="t", xlabel="x", max_points=200)
    assert np.array_equal(again.collections[0].get_offsets(), ax.collections[0].get_offsets())


def test_next_page_heatmap_of_many_pages_draws_the_busiest_with_shares_of_all_steps():
    pages = np.array([f"p{i}" for i in range(20000)])
    transitions = pd.DataFrame({"page": np.r_[["A", "A", "B"], pages], "next_page": np.r_[["B", "C", "A"], pages[::-1]],
                                "count": np.r_[[30, 10, 20], np.ones(len(pages), dtype=int)]})
    ax = plots.next_page_heatmap(transitions, title="t", max_pages=3)
    # Each row carries the steps its shares are counted over; rows of few steps are marked.
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A (40)", "B (20) *"]
    assert "fewer than 30 steps" in ax.get_xlabel()
    faded = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_alpha()]
    assert [p.get_y() for p in faded] == [1], "only the row of few steps is faded"
    assert ax.collections[0].norm.vmax == pytest.approx(0.75), "the scale is set by the rows of enough steps"
    values = ax.collections[0].get_array().reshape(-1, 3)
    assert values[0, 1] == pytest.approx(0.75) and values[0, 2] == pytest.approx(0.25)
    assert plots.next_page_heatmap(transitions, title="t", max_pages=3, min_steps=20).get_yticklabels()[1] \
        .get_text() == "B (20)"


def test_length_by_group_labels_each_group_once():
    lengths = pd.Series(np.arange(1, 100001) % 7 + 1)
    groups = pd.Series(np.where(np.arange(100000) % 3 == 0, "Free trial → Pro", "Team/Org"))
    ax = plots.length_by_group(lengths, groups, title="t")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Free trial → Pro", "Team/Org"]


# ----------------------------------------------------------- lines and dots


def test_coverage_curves_climb_to_every_plan_total_with_the_target_line():
    journeys = pd.DataFrame({"user_journey": ["A", "A", "B", "C", "A", "B"],
                             "subscription_type": ["x", "x", "x", "x", SCRIPT, SCRIPT]})
    variants = paths.journey_variants(journeys, by_plan=True)
    ax = plots.coverage_curves(variants, target=0.8, title="Coverage", xlabel="Variants", ylabel="Journeys")
    labelled(ax, "Coverage", "Variants")
    curves = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    assert set(curves) == {"x", SCRIPT, "every journey different"}
    assert [float(v) for v in curves["x"].get_ydata()] == [0.0, 0.5, 0.75, 1.0]
    # Distinct journeys as a share of the plan's buyers: 3 distinct journeys of 4 buyers end at 75%.
    assert [float(v) for v in curves["x"].get_xdata()] == [0.0, 0.25, 0.5, 0.75]
    assert [float(v) for v in curves[SCRIPT].get_xdata()] == [0.0, 0.5, 1.0]
    counted = plots.coverage_curves(variants, by="count", title="t", xlabel="x", ylabel="y")
    line = next(line for line in counted.lines if line.get_label() == "x")
    assert [float(v) for v in line.get_xdata()] == [0.0, 1.0, 2.0, 3.0]
    assert any(np.allclose(line.get_ydata(), 0.8) for line in ax.lines), "a line at the target share"


def test_dumbbell_joins_each_row_and_needs_two_columns():
    shares = pd.DataFrame({"First": [0.2, 0.7], "Last": [0.68, 0.36]}, index=["Checkout", MATH])
    ax = plots.dumbbell(shares, title="Windows", xlabel="Share of users", legend="Sessions")
    labelled(ax, "Windows", "Share of users")
    assert tick_texts(ax) == ["Checkout", MATH]
    dots = {c.get_label(): c.get_offsets() for c in ax.collections if not c.get_label().startswith("_")}
    assert np.allclose(dots["First"][:, 0], [0.2, 0.7]) and np.allclose(dots["Last"][:, 0], [0.68, 0.36])
    with pytest.raises(ValueError, match="two columns"):
        plots.dumbbell(shares.assign(Third=1.0), title="t", xlabel="x")


# ------------------------------------------------------------------ colours


def colour(value) -> str:
    from matplotlib.colors import to_hex
    return to_hex(value)


def test_plan_colours_come_from_the_sorted_plans_and_never_from_the_greys():
    everything = plots.plan_colors(["Quarterly", "Annual", "Monthly", "Annual", None])
    assert list(everything) == ["Annual", "Monthly", "Quarterly"]
    assert plots.plan_colors(pd.Series(["Monthly", "Quarterly", "Annual"])) == everything
    assert len(set(everything.values())) == 3
    many = plots.plan_colors([f"plan {i:02d}" for i in range(12)])
    assert len(set(many.values())) == 12, "twelve plans, twelve colours"
    plan_hexes = {colour(c) for c in plots.PLAN_PALETTE}
    assert not plan_hexes & {colour(c) for c in plots.NEUTRAL_PALETTE}
    for value in plan_hexes:
        r, g, b = to_rgba(value)[:3]
        assert max(r, g, b) - min(r, g, b) > 0.15, f"{value} is too grey to mark a plan"
    assert set(plots.neutral_colors(["First", "Last"]).values()) <= set(plots.NEUTRAL_PALETTE)


def test_a_plan_keeps_its_colour_in_every_chart_even_when_others_are_absent():
    plots.use_report_style(plans=["Annual", "Monthly", "Quarterly"])
    try:
        expected = plots.plan_colors(["Annual", "Monthly", "Quarterly"])
        # Only Monthly and Quarterly shown: they keep the colours they have among all three plans.
        shares = pd.DataFrame({"Monthly": [0.6, 0.4], "Quarterly": [0.9, 0.5]}, index=["Checkout", "Pricing"])
        ax = plots.grouped_bars(shares, title="t", xlabel="x", percent=True)
        bars = {colour(p.get_facecolor()) for p in ax.patches if p.get_width() > 0}
        assert bars == {expected["Monthly"].lower(), expected["Quarterly"].lower()}
        variants = paths.journey_variants(pd.DataFrame({"user_journey": ["A", "B", "A"],
                                                        "subscription_type": ["Quarterly", "Quarterly", "Monthly"]}),
                                          by_plan=True)
        ax = plots.coverage_curves(variants, title="t", xlabel="x", ylabel="y")
        lines = {line.get_label(): colour(line.get_color()) for line in ax.lines}
        assert lines["Quarterly"] == expected["Quarterly"].lower()
        # A group labelled with its count takes its plan's colour.
        table = pd.DataFrame({"page": ["Coupon"], "plan": ["Quarterly (43)"], "share": [0.5], "low": [0.4],
                              "high": [0.6]})
        ax = plots.interval_dots(table, category="page", group="plan", value="share", low="low", high="high",
                                 title="t", xlabel="x")
        assert colour(ax.get_legend().legend_handles[0].get_color()) == expected["Quarterly"].lower()
        ax = plots.length_by_group(pd.Series([1, 2, 3, 4]), pd.Series(["Quarterly", "Monthly"] * 2), title="t")
        faces = {colour(p.get_facecolor()) for p in ax.patches}
        assert {expected["Monthly"].lower(), expected["Quarterly"].lower()} <= faces
        # Columns that are not plans (session windows) are grey, with the plans known.
        windows = pd.DataFrame({"First 3 sessions": [0.2], "Last 3 sessions": [0.5]}, index=["Checkout"])
        ax = plots.grouped_bars(windows, title="t", xlabel="x", percent=True)
        bars = {colour(p.get_facecolor()) for p in ax.patches if p.get_width() > 0}
        assert bars and bars <= {colour(c) for c in plots.NEUTRAL_PALETTE}
    finally:
        plots._REPORT_COLORS.clear()


def test_what_is_not_a_plan_is_drawn_in_greys():
    plan_hexes = {colour(c) for c in plots.PLAN_PALETTE}
    shares = pd.DataFrame({"First": [0.2, 0.7], "Last": [0.68, 0.36]}, index=["Checkout", "Homepage"])
    ax = plots.dumbbell(shares, title="t", xlabel="x")
    dots = {colour(c.get_facecolor()[0]) for c in ax.collections if not c.get_label().startswith("_")}
    assert dots and not dots & plan_hexes
    ax = plots.ranked_bars(pd.Series({"A": 3, "B": 2}), title="t", xlabel="x")
    assert not {colour(p.get_facecolor()) for p in ax.patches} & plan_hexes
    table = findings()
    ax = plots.effect_forest(table, title="t", xlabel="x", hue="kind", legend="Kind")
    assert not {colour(line.get_color()) for line in ax.lines} & plan_hexes, "no plans named: no plan colours"
    assert {h.get_marker() for h in ax.get_legend().legend_handles} == {"o", "s"}, "kinds are shapes"


# ------------------------------------------------------------ forest, with shares


def test_forest_writes_both_shares_and_names_the_pair_once():
    table = findings().assign(plan_a="Annual", plan_b="Monthly", value_a=[0.595, 0.483, 0.3],
                              value_b=[0.114, 0.891, 0.2])
    table["label"] = [f"{v} (Annual vs Monthly)" for v in table["label"]]
    ax = plots.effect_forest(table, title="t", xlabel="x", hue="kind", legend="Kind",
                             colors={"Annual": "#0072B2", "Monthly": "#E69F00"})
    assert tick_texts(ax) == [f"1. {MATH}", f"2. {SCRIPT}", "3. Pricing"]
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("Annual vs Monthly") == 1 and texts.index("Annual vs Monthly") > 2
    assert ["60% vs 11%", "48% vs 89%", "30% vs 20%"] == [t for t in texts if "%" in t]
    # Each dot is in the colour of the plan with more.
    by_row = {float(line.get_ydata()[0]): colour(line.get_color()) for line in ax.lines
              if line.get_marker() in ("o", "s")}
    assert by_row == {0.0: "#0072b2", 1.0: "#e69f00", 2.0: "#0072b2"}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["more in Annual", "more in Monthly"] and "presence" in legend


def test_forest_names_the_pair_on_each_row_when_pairs_differ():
    table = findings().assign(plan_a=["A", "A", "B"], plan_b=["B", "C", "C"], value_a=[0.5, 0.2, 0.3],
                              value_b=[0.1, 0.5, 0.25])
    ax = plots.effect_forest(table, title="t", xlabel="x")
    assert [t.get_text() for t in ax.texts if "%" in t.get_text()] == ["A 50% vs B 10%", "A 20% vs C 50%",
                                                                      "B 30% vs C 25%"]


# ------------------------------------------------------------ one scale, round ticks


def test_share_heatmaps_of_several_plans_use_one_colour_scale():
    journeys = pd.DataFrame({"user_journey": ["A-B", "A-C", "B-C", "C-A", "A-B", "A-B"],
                             "subscription_type": ["x", "x", "y", "y", "y", SCRIPT]})
    matrix = paths.step_matrix(journeys, steps=2, by_plan=True)
    assert matrix[matrix["plan"] == "y"]["share"].max() < 0.5, "panels whose own largest shares differ"
    axes = plots.share_heatmaps(matrix, column="step", title="Page at each step", xlabel="Step")
    figure = axes[0].figure
    assert plots.alt_text(figure) == "Page at each step"
    meshes = [ax.collections[0] for ax in axes]
    assert len({(m.norm.vmin, m.norm.vmax) for m in meshes}) == 1, "one scale"
    assert meshes[0].norm.vmax == pytest.approx(matrix["share"].max())
    assert [ax.get_title() for ax in axes] == [f"{SCRIPT} (1 journey)", "x (2 journeys)", "y (3 journeys)"]
    assert len({tuple(tick_texts(ax)) for ax in axes}) == 1, "the same rows in every panel"
    assert len(figure.axes) == len(axes) + 1, "one colour bar for all"
    for ax in axes:
        assert np.allclose(mesh_values(ax).sum(axis=0), 1.0)


def round_steps(ticks) -> bool:
    steps = np.diff(np.asarray(ticks, dtype=float) * 100)
    step = float(np.median(steps))
    mantissa = step / 10 ** np.floor(np.log10(step))
    return bool(np.allclose(steps, step)) and any(np.isclose(mantissa, m) for m in (1, 2, 5))


@pytest.mark.parametrize("top", [0.18, 0.07, 0.45, 0.93])
def test_percent_axes_tick_at_round_steps(top):
    ax = plots.ranked_bars(pd.Series({"A": top, "B": top / 3}), title="t", xlabel="x", percent=True)
    ax.figure.canvas.draw()
    low, high = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert round_steps(ticks), ticks
    labels = [t.get_text() for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]
    assert all(label.endswith("%") and "." not in label for label in labels), labels


# ------------------------------------------------------------------ flows


def sample_flows(**options):
    from journey_utils import flows

    journeys = pd.DataFrame({"user_journey": ["Home-Pricing-Checkout"] * 5 + ["Home-Checkout"] * 3
                             + [f"{SCRIPT}-Home"] * 2 + [MATH],
                             "subscription_type": ["Annual"] * 6 + ["Monthly"] * 5})
    return journeys, flows.step_flows(journeys, **options)


def test_step_flow_boxes_are_as_tall_as_their_journeys():
    from journey_utils import flows

    _, table = sample_flows(steps=3)
    ax = labelled(plots.step_flow(table, title="Flows", color="#0072B2"), "Flows", plots.step_flow(
        table, title="Flows").get_xlabel())
    assert tick_texts(ax, "x") == ["1st page", "2nd page", "3rd page"]
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    by_column = {}
    for box in boxes:
        by_column.setdefault(round(box.get_x(), 6), []).append(box.get_height())
    first = sorted(by_column)[0]
    heights = sorted(by_column[first], reverse=True)
    assert np.allclose(np.array(heights) / heights[0], [1.0, 2 / 8, 1 / 8]), "8, 2 and 1 journeys"
    labels = [t.get_text() for t in ax.texts]
    assert "Home\n8 (73%)" in labels and any(t.replace("\n", "").startswith(SCRIPT) for t in labels)
    assert any(t.startswith(flows.END) for t in labels)
    # One ribbon per flow.
    ribbons = [c for c in ax.collections if len(c.get_paths())]
    assert len(ribbons) == len(table)
    backward = plots.step_flow(flows.step_flows(sample_flows()[0], steps=3, direction="backward"), title="Back")
    assert tick_texts(backward, "x") == ["last page", "2nd to last page", "3rd to last page"]
    assert any(t.get_text().startswith(flows.START) for t in backward.texts)
    assert plots.alt_text(backward.figure) == "Back"


def test_flow_difference_writes_both_shares_in_plan_colours():
    from journey_utils import flows

    journeys, _ = sample_flows()
    table = flows.flow_differences(journeys, ["Annual", "Monthly"], steps=3)
    colors = {"Annual": "#0072B2", "Monthly": "#E69F00"}
    ax = labelled(plots.flow_difference(table, title="Differ", colors=colors, top=3), "Differ",
                  "Share of the plan's journeys")
    texts = [t.get_text() for t in ax.texts]
    expected = [f"{a:.0%} vs {b:.0%}" for a, b in zip(table["share_a"].head(3), table["share_b"].head(3))]
    assert texts[:4] == expected + ["Annual vs Monthly"], "the pair named once"
    dots = [c for c in ax.collections if len(c.get_offsets()) == 3]
    assert [colour(c.get_edgecolor()[0]) for c in dots] == ["#0072b2", "#e69f00"]
    assert np.allclose(dots[0].get_offsets()[:, 0], table["share_a"].head(3))
    assert all(colour(c.get_facecolor()[0]) == "#ffffff" for c in dots), "6 and 5 journeys: small samples"
    assert any("fewer than 30 journeys" in t for t in texts)
    big = plots.flow_difference(table, title="t", colors=colors, min_n=5, top=3)
    assert [colour(c.get_facecolor()[0]) for c in big.collections if len(c.get_offsets()) == 3] == \
        ["#0072b2", "#e69f00"]
    # The first two plans given are drawn by default, whatever pair differs most.
    three = flows.flow_differences(journeys.assign(subscription_type=["Annual"] * 4 + ["Quarterly"] * 4
                                                   + ["Monthly"] * 3), ["Monthly", "Annual", "Quarterly"], steps=3)
    assert plots.flow_difference(three, title="t").texts[-2].get_text() == "Monthly vs Annual"


@pytest.mark.parametrize("draw", [
    lambda: plots.step_flow(sample_flows()[1].iloc[:0], title="t"),
    lambda: plots.flow_difference(pd.DataFrame(columns=["plan_a", "plan_b"]), title="t"),
    lambda: plots.share_heatmaps(step_table().iloc[:0], column="step", title="t", xlabel="x")[0],
])
def test_flow_charts_of_nothing_say_so(draw):
    with pytest.warns(plots.EmptyChartWarning, match="chart 't' has no data to show"):
        ax = draw()
    assert ax.get_title() == "t" and any("No data" in t.get_text() for t in ax.texts)


# ------------------------------------------------------------------ alt text, sharp images


def test_each_chart_figure_carries_its_title_for_alt_text():
    ax = plots.ranked_bars(pd.Series({"A": 1}), title=f"Pages {SCRIPT}", xlabel="x")
    assert plots.alt_text(ax.figure) == f"Pages {SCRIPT}"
    figure, axes = plt.subplots(2, 1)
    plots.ranked_bars(pd.Series({"A": 1}), title="One", xlabel="x", ax=axes[0])
    plots.ranked_bars(pd.Series({"A": 1}), title="Two", xlabel="x", ax=axes[1])
    assert plots.alt_text(figure) == "One; Two", "a figure drawn by the caller is not relabelled"


def test_notebook_images_are_twice_as_dense_and_carry_the_title():
    import base64
    import struct

    pytest.importorskip("IPython")
    ax = plots.ranked_bars(pd.Series({"A": 0.5}), title="Pages & <b>", xlabel="x", percent=True)
    data, metadata = plots._png_with_alt(ax.figure, bbox_inches="tight")
    width, height = struct.unpack(">II", base64.b64decode(data)[16:24])
    assert metadata["alt"] == "Pages & <b>"
    assert (width // 2, height // 2) == (metadata["width"], metadata["height"]) and width > 1500


def test_a_notebook_kernel_gets_sharp_images_with_their_title(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt, pandas as pd\nfrom journey_utils import plots\n"
                                  "plots.use_report_style(plans=['Annual', 'Monthly'])"),
        nbformat.v4.new_code_cell(f"plots.ranked_bars(pd.Series({{'A': 0.5}}), title={SCRIPT!r}, xlabel='x')\n"
                                  "plt.show()"),
    ]
    nbclient.NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    (image,) = [o for o in notebook.cells[1].outputs if "image/png" in o.get("data", {})]
    metadata = image["metadata"]["image/png"]
    assert metadata["alt"] == SCRIPT
    assert metadata["width"] > 800 and metadata["height"] > 100


def test_a_long_title_wraps_instead_of_widening_the_figure():
    title = "Share of each plan's journeys that visit the page twice or more, counted before repeats (top 10)"
    ax = plots.grouped_bars(pd.DataFrame({"Annual": [0.5]}, index=["Checkout"]), title=title, xlabel="x")
    assert "\n" in ax.get_title() and ax.get_title().replace("\n", " ") == title
    assert plots.alt_text(ax.figure) == title
    ax.figure.canvas.draw()
    box = ax.figure.get_tightbbox(ax.figure.canvas.get_renderer())
    assert box.width <= ax.figure.get_figwidth() + 0.01


@pytest.mark.parametrize("longest", [8, 41, 230])
def test_length_ticks_are_round_lengths_with_the_first_and_the_tail(longest):
    lengths = pd.Series(np.r_[np.arange(1, longest + 1), [longest + 50]])
    ax = plots.length_distribution(lengths, title="t", clip_quantile=longest / (longest + 1))
    labels = tick_texts(ax, "x")
    assert labels[0] == "1" and labels[-1].endswith("+")
    middle = [int(v) for v in labels[1:-1]]
    steps = set(np.diff(middle).tolist())
    assert len(steps) == 1 and steps.pop() in (1, 2, 5, 10, 20, 50), labels
    assert len(labels) <= 17


def test_alt_text_of_a_figure_of_wrapped_panels_reads_as_one_line():
    figure, axes = plt.subplots(1, 2)
    long = "Share of each plan's journeys that visit the page twice or more, counted before repeats"
    plots.ranked_bars(pd.Series({"A": 1}), title=long, xlabel="x", ax=axes[0])
    plots.ranked_bars(pd.Series({"A": 1}), title="Deal $5", xlabel="x", ax=axes[1])
    assert plots.alt_text(figure) == f"{long}; Deal $5"


def test_flow_labels_of_very_long_page_names_stay_short():
    from journey_utils import flows

    name = "Checkout " * 30
    journeys = pd.DataFrame({"user_journey": [f"{name}-Home", "Home"], "subscription_type": ["x", "y"]})
    ax = plots.step_flow(flows.step_flows(journeys, steps=2), title="t")
    longest = max(len(t.get_text().split("\n")) for t in ax.texts)
    assert longest <= 3 and any("…" in t.get_text() for t in ax.texts)
    ax = plots.flow_difference(flows.flow_differences(journeys, steps=2), title="t")
    assert all(len(t.get_text()) < 80 for t in ax.get_yticklabels())


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_ribbons_leave_and_reach_each_box_exactly_once(direction):
    from journey_utils import flows

    journeys = pd.DataFrame({"user_journey": ["A-B-C", "A-C", "B-A-C-D", "A", "C-B", "A-B-D", "D-A-B"],
                             "subscription_type": ["x"] * 7})
    table = flows.step_flows(journeys, steps=4, max_pages=2, direction=direction)
    ax = plots.step_flow(table, title="t")
    boxes = [(p.get_x(), p.get_x() + p.get_width(), p.get_y(), p.get_y() + p.get_height())
             for p in ax.patches if isinstance(p, Rectangle) and not p.get_alpha()]
    ends = []
    for ribbon in (c for c in ax.collections if len(c.get_paths())):
        points = ribbon.get_paths()[0].vertices
        for x in (points[:, 0].min(), points[:, 0].max()):
            ys = points[np.isclose(points[:, 0], x), 1]
            ends.append((x, ys.min(), ys.max()))
    for left, right, top, bottom in boxes:
        for edge in (left, right):
            touching = sorted((y0, y1) for x, y0, y1 in ends
                              if np.isclose(x, edge) and y0 >= top - 1e-9 and y1 <= bottom + 1e-9)
            if not touching:
                continue
            # The ribbons on one side of a box tile it: no gap, no overlap, its whole height.
            assert np.isclose(touching[0][0], top) and np.isclose(touching[-1][1], bottom)
            assert all(np.isclose(a[1], b[0]) for a, b in zip(touching, touching[1:]))
