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
