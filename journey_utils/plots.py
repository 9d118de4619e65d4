"""The report charts: seaborn on matplotlib, titled, labelled and readable on a laptop.

Each function draws one chart on a new figure (or on ``ax``) and returns the
Axes; a notebook cell ends with ``plt.show()``. Page and plan names are user
data and are drawn as plain text: :func:`use_report_style` turns off mathtext
and TeX, and without it ``$`` signs are escaped so a name like ``$5 plan`` is
not read as a formula.

Examples
--------
>>> import pandas as pd
>>> from journey_utils import plots
>>> presence = pd.Series({"Homepage": 0.8, "Pricing": 0.5}, name="share")
>>> ax = plots.ranked_bars(presence, title="Pages in journeys", xlabel="Share of journeys",
...                        percent=True)
>>> ax.get_title()
'Pages in journeys'
"""

from __future__ import annotations

import textwrap
import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

__all__ = [
    "EmptyChartWarning",
    "use_report_style",
    "ranked_bars",
    "grouped_bars",
    "length_distribution",
    "length_by_group",
    "next_page_heatmap",
    "effect_forest",
    "interval_dots",
    "position_strips",
    "share_heatmap",
    "difference_heatmap",
    "coverage_curves",
    "dumbbell",
]

_WIDTH = 9.0
_LABEL_WIDTH = 28
_PALETTE = "deep"
#: Row of a heatmap that gathers the pages left out of it.
OTHER_PAGES = "(other pages)"


class EmptyChartWarning(UserWarning):
    """A chart was asked to draw nothing: a report should say so in a sentence instead."""


def use_report_style() -> None:
    """Chart style shared by every report: seaborn theme, laptop-sized figures, plain text."""
    sns.set_theme(style="whitegrid", context="notebook", palette=_PALETTE)
    mpl.rcParams.update(
        {
            "figure.figsize": (_WIDTH, 5.0),
            "figure.dpi": 100,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.labelsize": 11,
            # Page names are data: never parse them as TeX or mathtext.
            "text.usetex": False,
            "text.parse_math": False,
        }
    )


def _text(label) -> str:
    text = str(label)
    if mpl.rcParams["text.parse_math"]:
        text = text.replace("$", r"\$")
    return text


def _name(label) -> str:
    return "\n".join(textwrap.wrap(_text(label), _LABEL_WIDTH, break_long_words=True)) or _text(label)


def _axes(ax, height: float):
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=(_WIDTH, height), layout="constrained")
    return ax


def _finish(ax, title: str, xlabel: str, ylabel: str):
    ax.set_title(_text(title))
    ax.set_xlabel(_text(xlabel))
    ax.set_ylabel(_text(ylabel))
    return ax


def _empty(ax, title: str, xlabel: str, ylabel: str, message: str = "No data to show"):
    # A report never shows an empty chart: the warning makes one visible in the executed notebook.
    warnings.warn(f"chart {_text(title)!r} has no data to show", EmptyChartWarning, stacklevel=3)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=12, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
    return _finish(ax, title, xlabel, ylabel)


def _value_formatter(percent: bool):
    return PercentFormatter(xmax=1, decimals=0) if percent else FuncFormatter(lambda v, _: f"{v:,.0f}")


def ranked_bars(values: pd.Series, *, title: str, xlabel: str, ylabel: str | None = None,
                percent: bool = False, ax=None):
    """Horizontal bars for a ranked Series (largest on top), each bar labelled with its value.

    Parameters
    ----------
    values : Series
        Label -> value, already sorted and cut to the rows to show.
    title, xlabel : str
        Chart title and value-axis label.
    ylabel : str, optional
        Category-axis label; defaults to the index name.
    percent : bool, default False
        Values are shares between 0 and 1.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> ax = plots.ranked_bars(pd.Series({"Checkout": 420, "Pricing": 300}), title="Visits", xlabel="Visits")
    >>> ax.get_xlabel()
    'Visits'
    """
    ylabel = ylabel if ylabel is not None else str(values.index.name or "")
    ax = _axes(ax, 1.2 + 0.42 * max(len(values), 1))
    if values.empty:
        return _empty(ax, title, xlabel, ylabel)
    labels = [_name(v) for v in values.index]
    numbers = values.to_numpy(dtype=float)
    sns.barplot(x=numbers, y=np.arange(len(values)).astype(str), orient="h", ax=ax, errorbar=None,
                color=sns.color_palette(_PALETTE)[0])
    ax.set_yticks(np.arange(len(values)), labels=labels)
    text = [f"{v:.1%}" if percent else f"{v:,.0f}" for v in numbers]
    ax.bar_label(ax.containers[0], labels=text, padding=3, fontsize=9)
    ax.xaxis.set_major_formatter(_value_formatter(percent))
    ax.set_xlim(0, numbers.max() * 1.15 if numbers.max() > 0 else 1)
    return _finish(ax, title, xlabel, ylabel)


def grouped_bars(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str | None = None,
                 legend: str | None = None, percent: bool = False, ax=None):
    """Horizontal bars for several groups side by side (rows are categories, columns groups).

    Parameters
    ----------
    table : DataFrame
        Index: categories (pages); columns: groups (plans, session windows); values:
        numbers or shares.
    title, xlabel : str
        Chart title and value-axis label.
    ylabel : str, optional
        Category-axis label; defaults to the index name.
    legend : str, optional
        Legend title; defaults to the columns' name.
    percent : bool, default False
        Values are shares between 0 and 1.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> shares = pd.DataFrame({"Annual": [0.6, 0.4], "Monthly": [0.9, 0.5]}, index=["Checkout", "Pricing"])
    >>> ax = plots.grouped_bars(shares, title="Pages by plan", xlabel="Share of journeys", percent=True)
    """
    ylabel = ylabel if ylabel is not None else str(table.index.name or "")
    legend = legend if legend is not None else str(table.columns.name or "")
    rows, groups = table.shape
    ax = _axes(ax, 1.4 + 0.22 * max(rows, 1) * max(min(groups, 4), 1))
    if table.empty:
        return _empty(ax, title, xlabel, ylabel)
    positions = [str(i) for i in range(rows)]
    long = pd.DataFrame({
        "category": np.repeat(positions, groups),
        "group": [_text(c) for c in table.columns] * rows,
        "value": table.to_numpy(dtype=float).ravel(),
    })
    sns.barplot(data=long, x="value", y="category", hue="group", orient="h", ax=ax, palette=_PALETTE, errorbar=None)
    ax.set_yticks(np.arange(rows), labels=[_name(v) for v in table.index])
    ax.xaxis.set_major_formatter(_value_formatter(percent))
    ax.legend(title=_text(legend), loc="best")
    return _finish(ax, title, xlabel, ylabel)


def length_distribution(lengths: pd.Series, *, title: str, xlabel: str = "Pages per journey",
                        ylabel: str = "Journeys", clip_quantile: float = 0.99, ax=None):
    """Histogram of journey lengths, one bar per length; the long tail is gathered in the last bar.

    Parameters
    ----------
    lengths : Series of int
        Pages per journey.
    title, xlabel, ylabel : str
        Chart title and axis labels.
    clip_quantile : float, default 0.99
        Lengths above this quantile are counted in the last bar (labelled ``N+``).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> ax = plots.length_distribution(pd.Series([1, 2, 2, 3, 40]), title="Pages per journey")
    """
    ax = _axes(ax, 4.5)
    values = pd.Series(lengths, dtype="float").dropna()
    if values.empty:
        return _empty(ax, title, xlabel, ylabel)
    top = max(int(np.ceil(values.quantile(clip_quantile))), 1)
    clipped = values.clip(upper=top).astype(int)
    counts = clipped.value_counts().reindex(range(int(clipped.min()), top + 1), fill_value=0)
    sns.barplot(x=counts.index.astype(str), y=counts.to_numpy(), ax=ax, errorbar=None,
                color=sns.color_palette(_PALETTE)[0])
    labels = [str(v) for v in counts.index]
    if values.max() > top:
        labels[-1] = f"{top}+"
    # At most about 15 tick labels, always including the last (the tail bar).
    step = max(1, int(np.ceil(len(labels) / 15)))
    ticks = sorted(set(range(0, len(labels), step)) | {len(labels) - 1})
    if len(ticks) > 1 and ticks[-1] - ticks[-2] < step:
        ticks.pop(-2)
    ax.set_xticks(ticks, labels=[labels[i] for i in ticks])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return _finish(ax, title, xlabel, ylabel)


def length_by_group(lengths: pd.Series, groups: pd.Series, *, title: str, xlabel: str = "Pages per journey",
                    ylabel: str = "Plan", ax=None):
    """Box plots of journey lengths per group (outliers beyond the whiskers are not drawn).

    Parameters
    ----------
    lengths : Series of int
        Pages per journey.
    groups : Series
        Group of each journey (aligned with ``lengths``), e.g. the plan.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> ax = plots.length_by_group(pd.Series([3, 5, 8]), pd.Series(["Annual", "Annual", "Monthly"]),
    ...                            title="Pages per journey by plan")
    """
    order = sorted(pd.unique(groups).tolist())
    ax = _axes(ax, 1.5 + 0.6 * max(len(order), 1))
    if len(lengths) == 0:
        return _empty(ax, title, xlabel, ylabel)
    # One label per group, not per journey (millions of journeys).
    codes, uniques = pd.factorize(np.asarray(groups))
    names = np.asarray([_name(g) for g in uniques], dtype=object)
    frame = pd.DataFrame({"length": np.asarray(lengths, dtype=float), "group": names[codes]})
    with warnings.catch_warnings():
        # seaborn 0.13 still passes matplotlib's pending-deprecated `vert` argument.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.boxplot(data=frame, x="length", y="group", order=[_name(g) for g in order], showfliers=False,
                    showmeans=True, ax=ax, color=sns.color_palette(_PALETTE)[0],
                    meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black"})
    return _finish(ax, title, xlabel, ylabel)


def next_page_heatmap(transitions: pd.DataFrame, *, title: str, max_pages: int = 15,
                      xlabel: str = "Next page", ylabel: str = "Page", ax=None):
    """Heatmap of next-page shares: each row shows where visitors go from that page.

    Parameters
    ----------
    transitions : DataFrame
        Columns ``page``, ``next_page`` and ``count``, as from
        :func:`journey_utils.page_transitions`.
    title : str
        Chart title.
    max_pages : int, default 15
        Only the pages with the most steps are shown (rows and columns); shares
        are still computed over all the steps from a page.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> from journey_utils import plots
    >>> journeys = pd.DataFrame({"user_journey": ["Homepage-Pricing-Checkout", "Homepage-Checkout"]})
    >>> ax = plots.next_page_heatmap(ju.page_transitions(journeys), title="Next page")
    """
    if transitions.empty:
        return _empty(_axes(ax, 4.0), title, xlabel, ylabel)
    # The busiest pages (steps in and out; ties by name), in one order on both axes: chosen before the grid
    # is made, so that tens of thousands of pages never make a pages-by-pages table.
    out_steps = transitions.groupby("page", observed=True)["count"].sum()
    in_steps = transitions.groupby("next_page", observed=True)["count"].sum()
    steps = out_steps.add(in_steps, fill_value=0).rename("n").rename_axis("name").reset_index()
    order = steps.sort_values(["n", "name"], ascending=[False, True])["name"].head(max_pages).tolist()
    kept = transitions[transitions["page"].isin(order) & transitions["next_page"].isin(order)]
    counts = kept.pivot_table(index="page", columns="next_page", values="count", aggfunc="sum", fill_value=0)
    shares = counts.div(out_steps.reindex(counts.index), axis=0)
    grid = shares.reindex(index=[p for p in order if p in shares.index], columns=order, fill_value=0.0)
    if grid.empty:
        return _empty(_axes(ax, 4.0), title, xlabel, ylabel)
    rows, columns = grid.index.tolist(), grid.columns.tolist()
    size = 2.5 + 0.45 * max(len(rows), len(columns))
    ax = _axes(ax, min(size, 11.0))
    values = grid.to_numpy(dtype=float)
    annotations = np.where(values >= 0.005, np.vectorize(lambda v: f"{v:.0%}")(values), "")
    sns.heatmap(grid, ax=ax, cmap="Blues", vmin=0, vmax=max(float(values.max()), 0.01), annot=annotations, fmt="", annot_kws={"fontsize": 8},
                linewidths=0.5, linecolor="white", cbar_kws={"format": PercentFormatter(xmax=1, decimals=0),
                                                             "label": "Share of steps from the page"})
    ax.set_xticks(np.arange(len(columns)) + 0.5, labels=[_name(c) for c in columns], rotation=45, ha="right")
    ax.set_yticks(np.arange(len(rows)) + 0.5, labels=[_name(r) for r in rows], rotation=0)
    return _finish(ax, title, xlabel, ylabel)


# ---------------------------------------------------------------------------
# Plan-comparison charts
# ---------------------------------------------------------------------------


def _points_formatter():
    """Ticks of a difference of two shares (-1..1) in percentage points, signed."""
    return FuncFormatter(lambda v, _: f"{100 * v:+.0f}" if round(100 * v) else "0")


def _group_colors(groups) -> dict:
    colors = sns.color_palette(_PALETTE, max(len(groups), 1))
    return {group: colors[i] for i, group in enumerate(groups)}


def _hollow_note(ax, any_small: bool, text: str = "hollow marker: small sample") -> None:
    if any_small:
        ax.annotate(_text(text), xy=(1, 0), xycoords="axes fraction", xytext=(0, -32),
                    textcoords="offset points", ha="right", va="top", fontsize=8, color="0.35")


def effect_forest(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str = "", label: str = "label",
                  effect: str = "effect", low: str = "effect_low", high: str = "effect_high",
                  small: str | None = "small_sample", hue: str | None = None, legend: str = "",
                  limits: tuple[float, float] = (-1.0, 1.0), ax=None):
    """Forest plot: one row per effect, a dot at the estimate and a bar over its interval.

    Effects are differences of two shares or probabilities (-1..1), drawn in
    percentage points with a line at 0. Rows whose ``small`` column is true get a
    hollow marker.

    Parameters
    ----------
    table : DataFrame
        One row per effect, drawn top to bottom in table order.
    title, xlabel, ylabel : str
        Chart title and axis labels.
    label, effect, low, high : str
        Columns: row label, estimate and interval bounds.
    small : str, optional
        Boolean column marking small samples (hollow markers).
    hue : str, optional
        Column whose values colour the rows (e.g. the kind of difference).
    legend : str
        Legend title when ``hue`` is given.
    limits : (float, float), default (-1, 1)
        Range of the effect axis.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> effects = pd.DataFrame({"label": ["Coupon", "Checkout"], "effect": [0.45, -0.31],
    ...                         "effect_low": [0.41, -0.36], "effect_high": [0.5, -0.26],
    ...                         "small_sample": [False, True]})
    >>> ax = plots.effect_forest(effects, title="Differences", xlabel="Percentage points")
    >>> [float(v) for v in ax.get_xlim()]
    [-1.0, 1.0]
    """
    rows = len(table)
    ax = _axes(ax, 1.6 + 0.42 * max(rows, 1))
    if table.empty:
        return _empty(ax, title, xlabel, ylabel)
    y = np.arange(rows)
    values = table[effect].to_numpy(dtype=float)
    lower = values - table[low].to_numpy(dtype=float)
    upper = table[high].to_numpy(dtype=float) - values
    smalls = table[small].to_numpy(dtype=bool) if small else np.zeros(rows, dtype=bool)
    groups = list(dict.fromkeys(table[hue].tolist())) if hue else [None]
    colors = _group_colors(groups)
    for group in groups:
        mine = np.ones(rows, dtype=bool) if hue is None else (table[hue] == group).to_numpy()
        color = colors[group] if hue else sns.color_palette(_PALETTE)[0]
        for hollow in (False, True):
            keep = mine & (smalls == hollow)
            if keep.any():
                ax.errorbar(values[keep], y[keep], xerr=np.vstack([lower[keep], upper[keep]]), fmt="o",
                            color=color, markersize=7, capsize=3, elinewidth=1.6,
                            markerfacecolor="white" if hollow else color, markeredgewidth=1.5,
                            label=_text(group) if (hue and not hollow) else None)
    ax.axvline(0, color="0.3", linewidth=1)
    ax.set_xlim(*limits)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_yticks(y, labels=[_name(v) for v in table[label]])
    ax.xaxis.set_major_formatter(_points_formatter())
    if hue:
        ax.legend(title=_text(legend), loc="best", fontsize=9)
    _hollow_note(ax, bool(smalls.any()))
    return _finish(ax, title, xlabel, ylabel)


def interval_dots(table: pd.DataFrame, *, category: str, group: str, value: str, low: str, high: str,
                  title: str, xlabel: str, ylabel: str = "", legend: str = "", small: str | None = None,
                  percent: bool = True, ax=None):
    """Dots with interval bars, several groups side by side per category (e.g. pages x plans).

    Parameters
    ----------
    table : DataFrame
        Tidy: one row per (category, group). Categories are drawn top to bottom
        in order of first appearance, groups in order of first appearance.
    category, group, value, low, high : str
        Columns: category (page), group (plan), estimate and interval bounds.
    title, xlabel, ylabel, legend : str
        Chart title, axis labels and legend title.
    small : str, optional
        Boolean column marking small samples (hollow markers).
    percent : bool, default True
        Values are shares between 0 and 1.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> shares = pd.DataFrame({"page": ["Coupon", "Coupon"], "plan": ["Annual", "Monthly"],
    ...                        "share": [0.59, 0.13], "low": [0.56, 0.1], "high": [0.62, 0.17]})
    >>> ax = plots.interval_dots(shares, category="page", group="plan", value="share", low="low",
    ...                          high="high", title="Pages by plan", xlabel="Share of journeys")
    """
    categories = list(dict.fromkeys(table[category].tolist()))
    groups = list(dict.fromkeys(table[group].tolist()))
    ax = _axes(ax, 1.6 + 0.22 * max(len(categories), 1) * max(min(len(groups), 4), 1))
    if table.empty:
        return _empty(ax, title, xlabel, ylabel)
    colors = _group_colors(groups)
    width = 0.7
    step = width / max(len(groups), 1)
    place = {c: i for i, c in enumerate(categories)}
    any_small = False
    for index, name in enumerate(groups):
        rows = table[table[group] == name]
        y = rows[category].map(place).to_numpy(dtype=float) - width / 2 + step * (index + 0.5)
        values = rows[value].to_numpy(dtype=float)
        errors = np.vstack([values - rows[low].to_numpy(dtype=float), rows[high].to_numpy(dtype=float) - values])
        errors = np.nan_to_num(np.clip(errors, 0, None))
        smalls = rows[small].to_numpy(dtype=bool) if small else np.zeros(len(rows), dtype=bool)
        any_small = any_small or bool(smalls.any())
        for hollow in (False, True):
            keep = smalls == hollow
            if keep.any():
                ax.errorbar(values[keep], y[keep], xerr=errors[:, keep], fmt="o", color=colors[name], markersize=6,
                            capsize=2.5, elinewidth=1.4, markeredgewidth=1.3,
                            markerfacecolor="white" if hollow else colors[name])
    handles = [Line2D([], [], color=colors[g], marker="o", linestyle="", label=_text(g)) for g in groups]
    ax.legend(handles=handles, title=_text(legend), loc="best", fontsize=9)
    ax.set_yticks(np.arange(len(categories)), labels=[_name(c) for c in categories])
    ax.set_ylim(len(categories) - 0.5, -0.5)
    for edge in np.arange(len(categories) - 1) + 0.5:
        ax.axhline(edge, color="0.9", linewidth=0.8)
    ax.xaxis.set_major_formatter(_value_formatter(percent))
    if percent:
        ax.set_xlim(-0.02, 1.02)
    _hollow_note(ax, any_small)
    return _finish(ax, title, xlabel, ylabel)


def position_strips(positions: pd.DataFrame, medians: pd.DataFrame, *, title: str, xlabel: str,
                    ylabel: str = "", group: str = "plan", value: str = "position", median: str = "median",
                    low: str = "low", high: str = "high", max_points: int | None = None, ax=None):
    """Each journey's position as a dot per group, with the group's median and its interval.

    The dots are spread vertically by a fixed-seed jitter, so a chart drawn twice
    is identical. With ``max_points``, a group with more journeys draws that many,
    drawn at random with a fixed seed (the medians are given, so they use them all).

    Parameters
    ----------
    positions : DataFrame
        One row per journey: ``group`` and ``value`` columns (e.g. plan and
        position 0-1, from :func:`journey_utils.paths.page_position`).
    medians : DataFrame
        One row per group, in the order to draw (top to bottom): ``group``,
        ``median``, ``low`` and ``high`` columns; NaN bounds draw no bar.
    title, xlabel, ylabel : str
        Chart title and axis labels.
    max_points : int, optional
        Most dots drawn per group (a seeded random sample); all when None.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> positions = pd.DataFrame({"plan": ["A", "A", "B"], "position": [0.1, 0.5, 0.9]})
    >>> medians = pd.DataFrame({"plan": ["A", "B"], "median": [0.3, 0.9], "low": [0.1, None],
    ...                         "high": [0.5, None]})
    >>> ax = plots.position_strips(positions, medians, title="Pricing", xlabel="Position")
    """
    groups = medians[group].tolist()
    ax = _axes(ax, 1.4 + 0.7 * max(len(groups), 1))
    if not groups:
        return _empty(ax, title, xlabel, ylabel)
    colors = _group_colors(groups)
    rng = np.random.default_rng(0)
    for index, name in enumerate(groups):
        values = positions.loc[positions[group] == name, value].to_numpy(dtype=float)
        if max_points is not None and len(values) > max_points:
            values = values[np.sort(rng.choice(len(values), size=max_points, replace=False))]
        jitter = rng.uniform(-0.28, 0.28, size=len(values))
        ax.scatter(values, index + jitter, s=9, color=colors[name], alpha=0.35, linewidths=0)
        row = medians.iloc[index]
        centre, bottom, top = (float(row[c]) for c in (median, low, high))
        if np.isfinite(bottom) and np.isfinite(top):
            ax.errorbar([centre], [index], xerr=[[centre - bottom], [top - centre]], fmt="none", ecolor="black",
                        elinewidth=2.2, capsize=5, zorder=3)
        if np.isfinite(centre):
            ax.plot([centre], [index], marker="D", markersize=8, color="white", markeredgecolor="black",
                    markeredgewidth=1.6, zorder=4)
    ax.set_yticks(np.arange(len(groups)), labels=[_name(g) for g in groups])
    ax.set_ylim(len(groups) - 0.5, -0.5)
    ax.set_xlim(-0.03, 1.03)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    handles = [Line2D([], [], marker="D", color="black", markerfacecolor="white", linestyle="-",
                      label="median and its interval")]
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.9)
    return _finish(ax, title, xlabel, ylabel)


def _heatmap_rows(grid: pd.DataFrame, pages, max_pages: int, special) -> pd.DataFrame:
    """Rows to draw: the chosen pages, the rest gathered in one row, special states last."""
    special = [s for s in special if s in grid.index]
    ordinary = grid.drop(index=special)
    if pages is None:
        totals = ordinary.sum(axis=1).rename("total").rename_axis("name").reset_index()
        pages = totals.sort_values(["total", "name"], ascending=[False, True])["name"].head(max_pages).tolist()
    pages = [p for p in pages if p not in special]
    shown = ordinary.reindex(pages, fill_value=0.0)
    rest = ordinary.drop(index=[p for p in pages if p in ordinary.index])
    parts = [shown]
    if len(rest) and rest.to_numpy().sum() > 0:
        parts.append(rest.sum(axis=0).to_frame(OTHER_PAGES).T)
    parts.append(grid.loc[special])
    return pd.concat(parts)


def _matrix(ax, grid: pd.DataFrame, *, annotations, cmap, vmin, vmax, colorbar, formatter, row_labels=True):
    """An annotated heatmap drawn with matplotlib alone (seaborn's redraws the whole figure per call)."""
    values = grid.to_numpy(dtype=float)
    rows, columns = values.shape
    norm = mpl.colors.Normalize(vmin=vmin, vmax=vmax)
    colormap = mpl.colormaps[cmap]
    mesh = ax.pcolormesh(np.arange(columns + 1), np.arange(rows + 1), values, cmap=colormap, norm=norm,
                         edgecolor="white", linewidth=0.5)
    if colorbar is not None:
        bar = ax.figure.colorbar(mesh, ax=ax, format=formatter, pad=0.02)
        bar.set_label(_text(colorbar))
        bar.outline.set_linewidth(0)
    # Dark text on light cells, white on dark ones (relative luminance, as seaborn does).
    rgb = colormap(norm(values))[..., :3]
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    for (row, column), text in np.ndenumerate(annotations):
        if text:
            label = ax.text(column + 0.5, row + 0.5, text, ha="center", va="center", fontsize=8,
                            color="0.15" if luminance[row, column] > 0.408 else "white")
            # Inside the cells: no need to measure them for the layout (which is slow with many).
            label.set_in_layout(False)
    ax.set_xlim(0, columns)
    ax.set_ylim(rows, 0)
    ax.set_xticks(np.arange(columns) + 0.5, labels=[str(c) for c in grid.columns], rotation=0)
    ax.set_yticks(np.arange(rows) + 0.5, labels=[_name(r) for r in grid.index] if row_labels else [], rotation=0)
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def share_heatmap(table: pd.DataFrame, *, column: str, title: str, xlabel: str, ylabel: str = "Page",
                  value: str = "share", pages=None, max_pages: int = 12, special=("(start)", "(end)"),
                  colorbar: str | None = "Share of journeys", row_labels: bool = True, ax=None):
    """Heatmap of shares by page (rows) and step or offset (columns), annotated in percent.

    Pages beyond the ``max_pages`` with the largest shares overall (or those not in
    ``pages``) are gathered in an ``(other pages)`` row, so every column still adds
    up to the same total; the special states (start, end) come last.

    Parameters
    ----------
    table : DataFrame
        Tidy: ``page``, ``column`` and ``value`` columns (e.g. from
        :func:`journey_utils.paths.step_matrix` for one plan).
    column : str
        The column across the chart: ``'step'`` or ``'offset'``.
    title, xlabel, ylabel : str
        Chart title and axis labels.
    value : str, default 'share'
        The values drawn.
    pages : list of str, optional
        Pages to show, in order (the same rows across several charts).
    max_pages : int, default 12
        Pages shown when ``pages`` is not given.
    special : sequence of str
        States drawn last, in this order, when present.
    colorbar : str or None
        Colour-bar label (the counting unit and denominator); None draws no colour bar
        (the cells are annotated), e.g. for charts side by side.
    row_labels : bool, default True
        Label the rows; False for a chart placed right of another with the same
        ``pages``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> from journey_utils.paths import step_matrix
    >>> journeys = pd.DataFrame({"user_journey": ["A-B", "A"], "subscription_type": ["x", "x"]})
    >>> ax = plots.share_heatmap(step_matrix(journeys, steps=2), column="step", title="Steps", xlabel="Step")
    """
    if table.empty:
        return _empty(_axes(ax, 4.0), title, xlabel, ylabel)
    grid = table.pivot_table(index="page", columns=column, values=value, aggfunc="sum", fill_value=0.0)
    grid = _heatmap_rows(grid, pages, max_pages, special)
    ax = _axes(ax, min(1.4 + 0.3 * len(grid), 9.0))
    values = grid.to_numpy(dtype=float)
    annotations = np.where(values >= 0.005, np.vectorize(lambda v: f"{v:.0%}")(values), "")
    # Without a colour bar, charts side by side share one scale: the whole 0-100%.
    top = 1.0 if colorbar is None else max(float(values.max()), 0.01)
    _matrix(ax, grid, annotations=annotations, cmap="Blues", vmin=0, vmax=top,
            colorbar=colorbar, formatter=PercentFormatter(xmax=1, decimals=0), row_labels=row_labels)
    return _finish(ax, title, xlabel, ylabel)


def difference_heatmap(table: pd.DataFrame, *, column: str, title: str, xlabel: str, ylabel: str = "Page",
                       pages=None, max_pages: int = 12, special=("(start)", "(end)"),
                       colorbar: str = "Difference in share (percentage points)", ax=None):
    """Diverging heatmap of differences in share, boxing the cells whose interval excludes 0.

    Parameters
    ----------
    table : DataFrame
        Tidy: ``page``, ``column``, ``difference``, ``difference_low`` and
        ``difference_high`` (e.g. :func:`journey_utils.paths.step_matrix_difference`).
    column : str
        The column across the chart (``'step'``).
    title, xlabel, ylabel : str
        Chart title and axis labels.
    pages : list of str, optional
        Pages to show, in order; default the ``max_pages`` with the largest
        absolute differences. Pages left out are not drawn (differences cannot be
        gathered like shares).
    special : sequence of str
        States drawn last when present.
    colorbar : str
        Colour-bar label.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> from journey_utils.paths import step_matrix_difference
    >>> journeys = pd.DataFrame({"user_journey": ["A-B", "B"], "subscription_type": ["x", "y"]})
    >>> ax = plots.difference_heatmap(step_matrix_difference(journeys, "x", "y", steps=2), column="step",
    ...                               title="x minus y", xlabel="Step")
    """
    if table.empty:
        return _empty(_axes(ax, 4.0), title, xlabel, ylabel)
    grid = table.pivot_table(index="page", columns=column, values="difference", aggfunc="sum", fill_value=0.0)
    low = table.pivot_table(index="page", columns=column, values="difference_low", aggfunc="sum", fill_value=0.0)
    high = table.pivot_table(index="page", columns=column, values="difference_high", aggfunc="sum", fill_value=0.0)
    special = [s for s in special if s in grid.index]
    if pages is None:
        size = grid.drop(index=special).abs().max(axis=1).rename("size").rename_axis("name").reset_index()
        pages = size.sort_values(["size", "name"], ascending=[False, True])["name"].head(max_pages).tolist()
    rows = [p for p in pages if p not in special and p in grid.index] + special
    grid, low, high = (frame.reindex(index=rows, columns=grid.columns, fill_value=0.0) for frame in (grid, low, high))
    ax = _axes(ax, min(1.4 + 0.3 * len(grid), 9.0))
    values = grid.to_numpy(dtype=float)
    limit = max(float(np.abs(values).max()), 0.01)
    excludes_zero = (low.to_numpy(dtype=float) > 0) | (high.to_numpy(dtype=float) < 0)
    annotations = np.where(np.abs(values) >= 0.005, np.vectorize(lambda v: f"{100 * v:+.0f}")(values), "")
    _matrix(ax, grid, annotations=annotations, cmap="RdBu_r", vmin=-limit, vmax=limit, colorbar=colorbar,
            formatter=_points_formatter())
    for row, col in zip(*np.nonzero(excludes_zero)):
        ax.add_patch(Rectangle((col + 0.06, row + 0.06), 0.88, 0.88, fill=False, edgecolor="black", linewidth=1.4))
    return _finish(ax, title, xlabel, ylabel)


def coverage_curves(variants: pd.DataFrame, *, title: str, xlabel: str, ylabel: str, target: float | None = 0.8,
                    group: str = "plan", ax=None):
    """Cumulative share of journeys covered by the most common distinct journeys, one line per group.

    Parameters
    ----------
    variants : DataFrame
        ``group``, ``rank`` and ``cumulative_share`` columns, e.g. from
        :func:`journey_utils.paths.journey_variants` with ``by_plan=True`` (every
        variant, not a top few).
    title, xlabel, ylabel : str
        Chart title and axis labels.
    target : float, optional
        Draw a horizontal line at this share (e.g. 0.8).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> variants = pd.DataFrame({"plan": ["x", "x", "y"], "rank": [1, 2, 1],
    ...                          "cumulative_share": [0.6, 1.0, 1.0]})
    >>> ax = plots.coverage_curves(variants, title="Coverage", xlabel="Variants", ylabel="Journeys")
    """
    ax = _axes(ax, 4.5)
    if variants.empty:
        return _empty(ax, title, xlabel, ylabel)
    groups = list(dict.fromkeys(variants[group].tolist()))
    colors = _group_colors(groups)
    for name in groups:
        rows = variants[variants[group] == name]
        ranks = np.r_[0, rows["rank"].to_numpy(dtype=float)]
        shares = np.r_[0.0, rows["cumulative_share"].to_numpy(dtype=float)]
        ax.step(ranks, shares, where="post", color=colors[name], linewidth=2, label=_text(name))
    if target is not None:
        ax.axhline(target, color="0.3", linestyle="--", linewidth=1)
        ax.annotate(f"{target:.0%}", xy=(1, target), xycoords=("axes fraction", "data"), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=9, color="0.3")
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right", fontsize=9)
    return _finish(ax, title, xlabel, ylabel)


def dumbbell(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str = "Page", legend: str = "",
             percent: bool = True, ax=None):
    """Two values per row joined by a line (e.g. first against last sessions).

    Parameters
    ----------
    table : DataFrame
        Index: rows (pages), drawn top to bottom; exactly two columns, the
        'before' and 'after' values, whose names label the legend.
    title, xlabel, ylabel, legend : str
        Chart title, axis labels and legend title.
    percent : bool, default True
        Values are shares between 0 and 1.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> shares = pd.DataFrame({"First": [0.2, 0.7], "Last": [0.68, 0.36]}, index=["Checkout", "Homepage"])
    >>> ax = plots.dumbbell(shares, title="First and last sessions", xlabel="Share of users")
    """
    if table.shape[1] != 2:
        raise ValueError(f"dumbbell: expected two columns (before, after); found {table.shape[1]}")
    rows = len(table)
    ax = _axes(ax, 1.4 + 0.38 * max(rows, 1))
    if table.empty:
        return _empty(ax, title, xlabel, ylabel)
    y = np.arange(rows)
    first, last = (table.iloc[:, i].to_numpy(dtype=float) for i in (0, 1))
    colors = sns.color_palette(_PALETTE, 2)
    ax.hlines(y, np.minimum(first, last), np.maximum(first, last), color="0.7", linewidth=2.5, zorder=1)
    ax.scatter(first, y, s=55, color=colors[0], zorder=2, label=_text(table.columns[0]))
    ax.scatter(last, y, s=55, color=colors[1], zorder=3, label=_text(table.columns[1]))
    ax.set_yticks(y, labels=[_name(v) for v in table.index])
    ax.set_ylim(rows - 0.5, -0.5)
    ax.xaxis.set_major_formatter(_value_formatter(percent))
    if percent:
        ax.set_xlim(-0.02, 1.02)
    ax.legend(title=_text(legend), loc="best", fontsize=9)
    return _finish(ax, title, xlabel, ylabel)
