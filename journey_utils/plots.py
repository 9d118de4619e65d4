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
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

__all__ = [
    "use_report_style",
    "ranked_bars",
    "grouped_bars",
    "length_distribution",
    "length_by_group",
    "next_page_heatmap",
]

_WIDTH = 9.0
_LABEL_WIDTH = 28
_PALETTE = "deep"


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
    frame = pd.DataFrame({"length": np.asarray(lengths, dtype=float),
                          "group": [_name(g) for g in np.asarray(groups)]})
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
    counts = transitions.pivot_table(index="page", columns="next_page", values="count", aggfunc="sum", fill_value=0)
    shares = counts.div(counts.sum(axis=1), axis=0)
    # The busiest pages (steps in and out; ties by name), in one order on both axes.
    steps = counts.sum(axis=1).add(counts.sum(axis=0), fill_value=0).rename("n").rename_axis("name").reset_index()
    order = steps.sort_values(["n", "name"], ascending=[False, True])["name"].head(max_pages).tolist()
    grid = shares.reindex(index=[p for p in order if p in shares.index], columns=order, fill_value=0.0)
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
