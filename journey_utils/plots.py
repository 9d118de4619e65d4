"""The report charts: seaborn on matplotlib, titled, labelled and readable on a laptop.

Each function draws one chart on a new figure (or on ``ax``) and returns the
Axes; a notebook cell ends with ``plt.show()``. Page and plan names are user
data and are drawn as plain text: :func:`use_report_style` turns off mathtext
and TeX, and without it ``$`` signs are escaped so a name like ``$5 plan`` is
not read as a formula.

Colours: every plan has one colour in every chart, fixed from the sorted list
of the plans in the data (:func:`plan_colors`; ``use_report_style(plans=...)``
makes it the default of every chart). Anything else a chart encodes (first and
last sessions, kinds of difference, gathered pages, ends of journeys) is drawn
in greys (:data:`NEUTRAL_PALETTE`) or with marker shapes, never in a plan colour.

Every figure carries its title (:func:`alt_text`); in a notebook, after
:func:`use_report_style`, each chart's PNG is sent at twice its pixel density
with that title as its ``alt`` metadata.

Examples
--------
>>> import pandas as pd
>>> from journey_utils import plots
>>> presence = pd.Series({"Homepage": 0.8, "Pricing": 0.5}, name="share")
>>> ax = plots.ranked_bars(presence, title="Pages in journeys", xlabel="Share of journeys",
...                        percent=True)
>>> ax.get_title()
'Pages in journeys'
>>> plots.alt_text(ax.figure)
'Pages in journeys'
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Mapping
from functools import partial

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

__all__ = [
    "EmptyChartWarning",
    "PLAN_PALETTE",
    "NEUTRAL_PALETTE",
    "plan_colors",
    "neutral_colors",
    "alt_text",
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
    "share_heatmaps",
    "difference_heatmap",
    "coverage_curves",
    "dumbbell",
    "step_flow",
    "flow_difference",
    "flow_differences",
]

_WIDTH = 9.0
_LABEL_WIDTH = 28
#: Row of a heatmap that gathers the pages left out of it.
OTHER_PAGES = "(other pages)"

#: Plan colours, in the order given to the sorted plans: the Okabe-Ito colour-blind-safe
#: set (without black and yellow), then Paul Tol's muted set; they repeat after 12 plans.
PLAN_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
                "#332288", "#999933", "#882255", "#44AA99", "#DDCC77", "#AA4499")
#: Colours of everything that is not a plan: a dark accent, then greys.
NEUTRAL_PALETTE = ("#262626", "#9E9E9E", "#5E5E5E", "#C7C7C7", "#7A7A7A", "#B3B3B3")
#: One series that is not a plan (a single plan's report passes that plan's colour instead).
NEUTRAL = "#5E5E5E"
#: Light grey of ends of journeys and gathered pages.
_LIGHT = "#C7C7C7"
_MID = "#9E9E9E"
#: Sequential scale of shares (heatmaps): white to the dark accent, no hue.
_SHARES_CMAP = LinearSegmentedColormap.from_list("journey_shares", ["#FFFFFF", "#D4D4D4", "#7F7F7F", "#262626"])
#: Marker shapes of the kinds of a difference (presence, sequence, position, ...).
_MARKERS = ("o", "s", "D", "^", "v", "P", "X")

# The plan colours of the report being drawn (set by use_report_style(plans=...)).
_REPORT_COLORS: dict[str, str] = {}


class EmptyChartWarning(UserWarning):
    """A chart was asked to draw nothing: a report should say so in a sentence instead."""


def plan_colors(plans) -> dict[str, str]:
    """One fixed colour per plan, from the sorted list of plans (the same export gives the same colours).

    Parameters
    ----------
    plans : iterable of str
        The plans in the data (a list, a Series of plan per journey, an Index...);
        repeats and missing values are ignored. Pass every plan of the export, not
        only those of one chart, so that a plan keeps its colour in every report.

    Returns
    -------
    dict
        Plan -> hex colour, in sorted order of the plans (colour-blind-safe
        colours, see :data:`PLAN_PALETTE`; none of them is grey).

    Examples
    --------
    >>> from journey_utils import plots
    >>> plots.plan_colors(["Monthly", "Annual", "Monthly"])
    {'Annual': '#0072B2', 'Monthly': '#E69F00'}
    """
    values = pd.Series(list(plans), dtype=object).dropna()
    names = sorted({str(p) for p in values}, key=str)
    return {name: PLAN_PALETTE[i % len(PLAN_PALETTE)] for i, name in enumerate(names)}


def neutral_colors(labels) -> dict[str, str]:
    """Colours of series that are not plans (first and last sessions, ...): the dark accent, then greys.

    Examples
    --------
    >>> from journey_utils import plots
    >>> plots.neutral_colors(["First sessions", "Last sessions"])
    {'First sessions': '#262626', 'Last sessions': '#9E9E9E'}
    """
    names = list(dict.fromkeys(str(v) for v in labels))
    return {name: NEUTRAL_PALETTE[i % len(NEUTRAL_PALETTE)] for i, name in enumerate(names)}


def _lookup(label, known: Mapping):
    """The colour of ``label``: its own, or that of the plan it names as ``'Plan (n)'``."""
    text = str(label)
    if text in known:
        return known[text]
    prefixes = [key for key in known if text.startswith(f"{key} (")]
    return known[max(prefixes, key=len)] if prefixes else None


def _palette(groups, colors=None) -> dict:
    """Group -> colour: those given, else the report's plan colours, else the plan palette in sorted order."""
    groups = list(groups)
    if colors is not None and not isinstance(colors, Mapping):
        colors = dict(zip((str(g) for g in groups), colors))
    known = {**_REPORT_COLORS, **{str(k): v for k, v in (colors or {}).items()}}
    found = {g: _lookup(g, known) for g in groups}
    used = {to_hex(c) for c in found.values() if c is not None}
    spare = iter([c for c in PLAN_PALETTE if to_hex(c) not in used] or PLAN_PALETTE)
    for g in sorted((g for g in groups if found[g] is None), key=str):
        found[g] = next(spare, NEUTRAL)
    return found


def alt_text(fig) -> str:
    """What a figure shows, in words, for its image's alternative text: its title.

    The label of a figure drawn by one chart function is that chart's title; a
    figure of several charts gives its ``suptitle``, else its charts' titles
    joined by ``'; '``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from journey_utils import plots
    >>> fig, axes = plt.subplots(1, 2)
    >>> _ = axes[0].set_title("Annual"), axes[1].set_title("Monthly")
    >>> plots.alt_text(fig)
    'Annual; Monthly'
    """
    if fig.get_label():
        return str(fig.get_label())

    def plain(text: str) -> str:
        # Drawn titles may be wrapped over lines, and escape '$' when mathtext is on.
        return " ".join(text.replace("\\$", "$").split())

    suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    if suptitle:
        return plain(suptitle)
    return "; ".join(plain(a.get_title()) for a in fig.axes if a.get_title())


def _compact_png(data: bytes) -> bytes:
    """The PNG in at most 256 colours (charts use few; anti-aliased edges barely change), about a third the size."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        reduced.save(buffer, format="PNG", optimize=True)
    smaller = buffer.getvalue()
    return smaller if len(smaller) < len(data) else data


def _png_with_alt(fig, **kwargs):
    """A notebook's PNG of a figure: twice its pixel density, 256 colours, the figure's title as ``alt``."""
    import base64
    import struct

    from IPython.core.pylabtools import print_figure

    data = print_figure(fig, fmt="retina", base64=False, **kwargs)
    if data is None:
        return None
    data = _compact_png(data)
    width, height = struct.unpack(">II", data[16:24])
    metadata = {"width": width // 2, "height": height // 2}
    alt = alt_text(fig)
    if alt:
        metadata["alt"] = alt
    return base64.b64encode(data).decode("ascii"), metadata


def _register_png_formatter() -> bool:
    """In a notebook kernel, send figures as 2x PNGs carrying their alt text; False outside one."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    backend = str(mpl.rcParams._get("backend")) if hasattr(mpl.rcParams, "_get") else mpl.get_backend()
    if "inline" in backend:
        # Loading the inline backend registers its own PNG formatter once: load it first, then replace it.
        import matplotlib_inline.backend_inline  # noqa: F401
    from matplotlib.figure import Figure

    shell.display_formatter.formatters["image/png"].for_type(Figure, partial(_png_with_alt, bbox_inches="tight"))
    return True


def use_report_style(plans=None) -> None:
    """Chart style shared by every report: seaborn theme, laptop-sized figures, plain text, sharp images.

    Parameters
    ----------
    plans : iterable of str, optional
        Every plan of the export (e.g. the plan column of the journeys): their
        :func:`plan_colors` become the colours of these plans in every chart,
        without passing ``colors=``.

    Notes
    -----
    In a notebook kernel, each figure is then displayed as a PNG at twice its
    pixel density (sharp on high-density screens, shown at its normal size by
    its ``width``/``height`` metadata), and its output metadata carries
    ``{"image/png": {"alt": <the chart title>}}`` (see :func:`alt_text`) for the
    HTML renderer to use as the image's alternative text.
    """
    sns.set_theme(style="whitegrid", context="notebook", palette=list(PLAN_PALETTE))
    mpl.rcParams.update(
        {
            "figure.figsize": (_WIDTH, 5.0),
            "figure.dpi": 100,
            "savefig.dpi": 200,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.labelsize": 11,
            # Page names are data: never parse them as TeX or mathtext.
            "text.usetex": False,
            "text.parse_math": False,
        }
    )
    if plans is not None:
        _REPORT_COLORS.clear()
        _REPORT_COLORS.update(plan_colors(plans))
    _register_png_formatter()


def _text(label) -> str:
    text = str(label)
    if mpl.rcParams["text.parse_math"]:
        text = text.replace("$", r"\$")
    return text


def _name(label, width: int = _LABEL_WIDTH, lines: int | None = None) -> str:
    """A label wrapped at ``width`` characters; with ``lines``, cut to that many lines, ending in '…'."""
    wrapped = textwrap.wrap(_text(label), width, break_long_words=True)
    if lines is not None and len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: max(width - 1, 1)] + "…"
    return "\n".join(wrapped) or _text(label)


def _axes(ax, height: float):
    if ax is not None:
        return ax
    fig, ax = plt.subplots(figsize=(_WIDTH, height), layout="constrained")
    # A figure of one chart: its title becomes the figure's label (its alt text).
    fig._journey_chart = True
    return ax


def _title(title) -> str:
    """A title on lines of at most 70 characters, so that a long one never widens the figure."""
    return "\n".join(textwrap.wrap(_text(title), 70, break_long_words=True)) or _text(title)


def _finish(ax, title: str, xlabel: str, ylabel: str):
    ax.set_title(_title(title))
    ax.set_xlabel(_text(xlabel))
    ax.set_ylabel(_text(ylabel))
    if getattr(ax.figure, "_journey_chart", False):
        ax.figure.set_label(str(title))
    return ax


def _empty(ax, title: str, xlabel: str, ylabel: str, message: str = "No data to show"):
    # A report never shows an empty chart: the warning makes one visible in the executed notebook.
    warnings.warn(f"chart {_text(title)!r} has no data to show", EmptyChartWarning, stacklevel=3)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=12, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
    return _finish(ax, title, xlabel, ylabel)


def _tidy_locator() -> MaxNLocator:
    """Ticks at round steps only (1, 2, 5 times a power of ten): 0, 10, 20%, never 2.5% steps."""
    return MaxNLocator(nbins="auto", steps=[1, 2, 5, 10])


def _percent_tick(value, _=None) -> str:
    number = round(100 * float(value), 6)
    return "0%" if number == 0 else f"{number:g}%"


def _percent_formatter() -> FuncFormatter:
    return FuncFormatter(_percent_tick)


def _value_formatter(percent: bool):
    return _percent_formatter() if percent else FuncFormatter(lambda v, _: f"{v:,.0f}")


def _value_axis(axis, percent: bool) -> None:
    """Tidy ticks on a value axis: round steps, in percent for shares."""
    axis.set_major_locator(_tidy_locator())
    axis.set_major_formatter(_value_formatter(percent))


def ranked_bars(values: pd.Series, *, title: str, xlabel: str, ylabel: str | None = None,
                percent: bool = False, color=None, ax=None):
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
    color : color, optional
        Colour of the bars: the plan's (from :func:`plan_colors`) in a one-plan
        report; a neutral grey by default.
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
                color=color if color is not None else NEUTRAL)
    ax.set_yticks(np.arange(len(values)), labels=labels)
    text = [f"{v:.1%}" if percent else f"{v:,.0f}" for v in numbers]
    ax.bar_label(ax.containers[0], labels=text, padding=3, fontsize=9)
    _value_axis(ax.xaxis, percent)
    ax.set_xlim(0, numbers.max() * 1.15 if numbers.max() > 0 else 1)
    return _finish(ax, title, xlabel, ylabel)


def grouped_bars(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str | None = None,
                 legend: str | None = None, percent: bool = False, colors=None, ax=None):
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
    colors : dict or list, optional
        Colour of each column. Default: the plan colours (:func:`plan_colors`)
        when the columns are plans; greys (:func:`neutral_colors`) when
        :func:`use_report_style` was given the plans and the columns are none of
        them (e.g. first and last sessions).

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
    if colors is None and _REPORT_COLORS and not any(_lookup(c, _REPORT_COLORS) for c in table.columns):
        # The report's plans are known and these columns are none of them (e.g. first and last sessions).
        colors = neutral_colors(table.columns)
    palette = _palette(table.columns, colors)
    sns.barplot(data=long, x="value", y="category", hue="group", orient="h", ax=ax, errorbar=None, saturation=1,
                hue_order=[_text(c) for c in table.columns],
                palette={_text(c): palette[c] for c in table.columns})
    ax.set_yticks(np.arange(rows), labels=[_name(v) for v in table.index])
    _value_axis(ax.xaxis, percent)
    ax.legend(title=_text(legend), loc="best")
    return _finish(ax, title, xlabel, ylabel)


def _round_step(at_least: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... that is at least ``at_least``."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= at_least:
                return factor * power
        power *= 10


def length_distribution(lengths: pd.Series, *, title: str, xlabel: str = "Pages per journey",
                        ylabel: str = "Journeys", clip_quantile: float = 0.99, color=None, ax=None):
    """Histogram of journey lengths, one bar per length; the long tail is gathered in the last bar.

    Parameters
    ----------
    lengths : Series of int
        Pages per journey.
    title, xlabel, ylabel : str
        Chart title and axis labels.
    clip_quantile : float, default 0.99
        Lengths above this quantile are counted in the last bar (labelled ``N+``).
    color : color, optional
        Colour of the bars (a plan's colour in a one-plan report); grey by default.

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
                color=color if color is not None else NEUTRAL)
    labels = [str(v) for v in counts.index]
    if values.max() > top:
        labels[-1] = f"{top}+"
    # At most about 15 tick labels at round lengths (1, 5, 10, 15...), always the first and the last (the tail).
    step = _round_step(len(labels) / 15)
    lengths = counts.index.to_numpy()
    ticks = sorted({0, len(labels) - 1} | set(np.flatnonzero(lengths % step == 0).tolist()))
    if len(ticks) > 1 and ticks[-1] - ticks[-2] < step / 2:
        ticks.pop(-2)
    if len(ticks) > 1 and ticks[1] - ticks[0] < step / 2:
        ticks.pop(1)
    ax.set_xticks(ticks, labels=[labels[i] for i in ticks])
    ax.yaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return _finish(ax, title, xlabel, ylabel)


def length_by_group(lengths: pd.Series, groups: pd.Series, *, title: str, xlabel: str = "Pages per journey",
                    ylabel: str = "Plan", colors=None, ax=None):
    """Box plots of journey lengths per group (outliers beyond the whiskers are not drawn).

    Parameters
    ----------
    lengths : Series of int
        Pages per journey.
    groups : Series
        Group of each journey (aligned with ``lengths``), e.g. the plan.
    colors : dict, optional
        Colour of each group; the plan colours by default.

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
    palette = _palette(order, colors)
    with warnings.catch_warnings():
        # seaborn 0.13 still passes matplotlib's pending-deprecated `vert` argument.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.boxplot(data=frame, x="length", y="group", order=[_name(g) for g in order], showfliers=False,
                    hue="group", hue_order=[_name(g) for g in order], legend=False,
                    palette={_name(g): palette[g] for g in order}, saturation=1, showmeans=True, ax=ax,
                    meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black"})
    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True))
    return _finish(ax, title, xlabel, ylabel)


def next_page_heatmap(transitions: pd.DataFrame, *, title: str, max_pages: int = 15,
                      xlabel: str = "Next page", ylabel: str = "Page (steps from it)", min_steps: int = 30,
                      ax=None):
    """Heatmap of next-page shares: each row shows where visitors go from that page.

    Each row is labelled with the number of steps from its page, the counting
    base of its shares; rows with fewer than ``min_steps`` are marked (``*``, in
    grey, faded, with a note under the chart), so that a row of a few visits is
    not read like a strong pattern.

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
    min_steps : int, default 30
        Rows with fewer steps from their page are marked as resting on few steps.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, journey_utils as ju
    >>> from journey_utils import plots
    >>> journeys = pd.DataFrame({"user_journey": ["Homepage-Pricing-Checkout", "Homepage-Checkout"]})
    >>> ax = plots.next_page_heatmap(ju.page_transitions(journeys), title="Next page")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Homepage (2) *', 'Pricing (1) *']
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
    base = out_steps.reindex(rows).to_numpy()
    few = base < min_steps
    # The colour scale is set by the rows of enough steps (a page visited once would make it 0-100%).
    scaled = values[~few] if (~few).any() else values
    _matrix(ax, grid, annotations=annotations, cmap=_SHARES_CMAP, vmin=0, vmax=max(float(scaled.max()), 0.01),
            colorbar="Share of the steps from the page", formatter=_percent_formatter())
    labels = [f"{_name(r)} ({int(n):,}){' *' if small else ''}" for r, n, small in zip(rows, base, few)]
    ax.set_yticks(np.arange(len(rows)) + 0.5, labels=labels, rotation=0)
    for label, small in zip(ax.get_yticklabels(), few):
        if small:
            label.set_color("0.45")
            label.set_fontstyle("italic")
    # A row of few steps is faded, so that its shares never look as strong as the others'.
    for row in np.flatnonzero(few):
        ax.add_patch(Rectangle((0, row), len(columns), 1, facecolor="white", alpha=0.6, linewidth=0, zorder=2))
    for text in ax.texts:
        if few[int(text.get_position()[1])]:
            text.set_color("0.3")
            text.set_zorder(3)
    ax.set_xticks(np.arange(len(columns)) + 0.5, labels=[_name(c) for c in columns], rotation=45, ha="right")
    if few.any():
        xlabel = f"{xlabel}\n* fewer than {min_steps:,} steps from the page: its shares rest on few visits"
    return _finish(ax, title, xlabel, ylabel)


def _note(ax, text: str) -> None:
    """A small grey note under the chart, right-aligned (a legend for markings)."""
    ax.annotate(_text(text), xy=(1, 0), xycoords="axes fraction", xytext=(0, -32), textcoords="offset points",
                ha="right", va="top", fontsize=8, color="0.35")


# ---------------------------------------------------------------------------
# Plan-comparison charts
# ---------------------------------------------------------------------------


def _points_formatter():
    """Ticks of a difference of two shares (-1..1) in percentage points, signed."""
    return FuncFormatter(lambda v, _: f"{100 * v:+.0f}" if round(100 * v) else "0")


def _points_axis(axis) -> None:
    axis.set_major_locator(_tidy_locator())
    axis.set_major_formatter(_points_formatter())


def _hollow_note(ax, any_small: bool, text: str = "hollow marker: small sample") -> None:
    if any_small:
        _note(ax, text)


def _shares_pair(a: float, b: float) -> str:
    """Two shares side by side, '48% vs 89%': whole percents unless that makes two different shares equal."""
    if not (np.isfinite(a) and np.isfinite(b)):
        return ""
    decimals = 1 if (round(100 * a) == round(100 * b) and a != b) else 0
    return f"{a:.{decimals}%} vs {b:.{decimals}%}"


def _pairs(table: pd.DataFrame, plan_a: str, plan_b: str) -> list[tuple[str, str]] | None:
    if plan_a in table.columns and plan_b in table.columns:
        return list(zip(table[plan_a].astype(str), table[plan_b].astype(str)))
    return None


def _pair_footer(ax, pair) -> None:
    """Name the two plans once, under the column of '48% vs 89%' values right of the chart."""
    ax.annotate(_name(f"{pair[0]} vs {pair[1]}", 18), xy=(1, 0), xycoords="axes fraction", xytext=(8, -22),
                textcoords="offset points", ha="left", va="top", fontsize=9, fontweight="bold", color="0.15")


def effect_forest(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str = "", label: str = "label",
                  effect: str = "effect", low: str = "effect_low", high: str = "effect_high",
                  small: str | None = "small_sample", hue: str | None = None, legend: str = "",
                  limits: tuple[float, float] = (-1.0, 1.0), value_a: str = "value_a", value_b: str = "value_b",
                  plan_a: str = "plan_a", plan_b: str = "plan_b", colors=None, ax=None):
    """Forest plot: one row per difference between two plans, with both plans' shares written out.

    Effects are differences of two shares or probabilities (-1..1), drawn in
    percentage points with a line at 0 and a bar over the interval. When the
    table names the two plans (``plan_a``, ``plan_b``), each dot takes the
    colour of the plan that has more (:func:`plan_colors`); when it holds their
    values (``value_a``, ``value_b``), each row is written as ``'48% vs 89%'``
    on the right. A pair shared by every row is named once, under those
    numbers, and a trailing ``' (A vs B)'`` is dropped from the row labels.
    Kinds of difference (``hue``) are marker shapes, never colours. Rows whose
    ``small`` column is true get a hollow marker.

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
        Column whose values set the marker shape (e.g. the kind of difference).
    legend : str
        Legend title of the shapes when ``hue`` is given.
    limits : (float, float), default (-1, 1)
        Range of the effect axis.
    value_a, value_b, plan_a, plan_b : str
        Columns of the two plans' values and names, used when present.
    colors : dict, optional
        Plan colours; by default those of :func:`use_report_style`'s plans, else
        :func:`plan_colors` of the plans in the table.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> effects = pd.DataFrame({"label": ["Coupon", "Checkout"], "effect": [0.45, -0.31],
    ...                         "effect_low": [0.41, -0.36], "effect_high": [0.5, -0.26],
    ...                         "small_sample": [False, True], "plan_a": ["Annual"] * 2,
    ...                         "plan_b": ["Monthly"] * 2, "value_a": [0.6, 0.48], "value_b": [0.15, 0.79]})
    >>> ax = plots.effect_forest(effects, title="Differences", xlabel="Percentage points")
    >>> [float(v) for v in ax.get_xlim()]
    [-1.0, 1.0]
    >>> [t.get_text() for t in ax.texts if " vs " in t.get_text()]
    ['60% vs 15%', '48% vs 79%', 'Annual vs Monthly']
    """
    rows = len(table)
    ax = _axes(ax, 1.8 + 0.42 * max(rows, 1))
    if table.empty:
        return _empty(ax, title, xlabel, ylabel)
    y = np.arange(rows)
    values = table[effect].to_numpy(dtype=float)
    lower = np.clip(values - table[low].to_numpy(dtype=float), 0, None)
    upper = np.clip(table[high].to_numpy(dtype=float) - values, 0, None)
    smalls = table[small].to_numpy(dtype=bool) if small else np.zeros(rows, dtype=bool)
    kinds = table[hue].astype(str).tolist() if hue else [""] * rows
    shapes = {kind: _MARKERS[i % len(_MARKERS)] for i, kind in enumerate(dict.fromkeys(kinds))}
    pairs = _pairs(table, plan_a, plan_b)
    one_pair = pairs[0] if pairs and len(set(pairs)) == 1 else None
    if pairs:
        palette = _palette(sorted({p for pair in pairs for p in pair}), colors)
        leader = [a if v > 0 else b if v < 0 else None for (a, b), v in zip(pairs, values)]
        row_colors = [palette[p] if p is not None else NEUTRAL for p in leader]
    else:
        leader, row_colors = [None] * rows, [NEUTRAL] * rows
    for row in range(rows):
        color = row_colors[row]
        ax.errorbar(values[row:row + 1], y[row:row + 1], xerr=[lower[row:row + 1], upper[row:row + 1]],
                    fmt=shapes[kinds[row]], color=color, markersize=7, capsize=3, elinewidth=1.6,
                    markerfacecolor="white" if smalls[row] else color, markeredgewidth=1.5)
    ax.axvline(0, color="0.3", linewidth=1)
    ax.set_xlim(*limits)
    ax.set_ylim(rows - 0.5, -0.5)
    labels = [str(v) for v in table[label]]
    if one_pair is not None:
        suffix = f" ({one_pair[0]} vs {one_pair[1]})"
        labels = [v[: -len(suffix)] if v.endswith(suffix) else v for v in labels]
    ax.set_yticks(y, labels=[_name(v, 40) for v in labels])
    _points_axis(ax.xaxis)
    if value_a in table.columns and value_b in table.columns:
        texts = [_shares_pair(a, b) for a, b in zip(table[value_a].to_numpy(dtype=float),
                                                     table[value_b].to_numpy(dtype=float))]
        if pairs and one_pair is None:
            texts = [f"{_text(a)} {t.replace(' vs ', f' vs {_text(b)} ')}" if t else t
                     for (a, b), t in zip(pairs, texts)]
        for row, text in enumerate(texts):
            ax.annotate(text, xy=(1, row), xycoords=("axes fraction", "data"), xytext=(8, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=9, color="0.15")
        if one_pair is not None:
            _pair_footer(ax, one_pair)
    handles = []
    if pairs:
        shown = [p for p in dict.fromkeys(pl for pl in leader if pl is not None)]
        handles += [Line2D([], [], color=palette[p], marker="o", linestyle="", label=_text(f"more in {p}"))
                    for p in shown]
    if hue:
        handles += [Line2D([], [], color=NEUTRAL, marker=shape, linestyle="", label=_text(kind))
                    for kind, shape in shapes.items()]
    if handles:
        ax.legend(handles=handles, title=_text(legend) if hue else None, loc="best", fontsize=9, framealpha=0.9)
    _hollow_note(ax, bool(smalls.any()))
    return _finish(ax, title, xlabel, ylabel)


def interval_dots(table: pd.DataFrame, *, category: str, group: str, value: str, low: str, high: str,
                  title: str, xlabel: str, ylabel: str = "", legend: str = "", small: str | None = None,
                  percent: bool = True, colors=None, ax=None):
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
    colors : dict, optional
        Colour of each group; the plan colours by default (a group labelled
        ``'Annual (931)'`` takes the colour of ``'Annual'``).

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
    colors = _palette(groups, colors)
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
    _value_axis(ax.xaxis, percent)
    if percent:
        ax.set_xlim(-0.02, 1.02)
    _hollow_note(ax, any_small)
    return _finish(ax, title, xlabel, ylabel)


def position_strips(positions: pd.DataFrame, medians: pd.DataFrame, *, title: str, xlabel: str,
                    ylabel: str = "", group: str = "plan", value: str = "position", median: str = "median",
                    low: str = "low", high: str = "high", max_points: int | None = None, colors=None,
                    ax=None):
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
    colors : dict, optional
        Colour of each group; the plan colours by default.

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
    colors = _palette(groups, colors)
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
    _value_axis(ax.xaxis, True)
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


def _colorbar(mesh, ax, label: str, formatter):
    """A colour bar with round ticks (0, 10, 20%), labelled with the counting base."""
    shrink = 1.0 if not isinstance(ax, list) or len(ax) < 2 else 0.6
    bar = mesh.figure.colorbar(mesh, ax=ax, format=formatter, ticks=_tidy_locator(), pad=0.02, shrink=shrink)
    bar.set_label(_text(label))
    bar.outline.set_linewidth(0)
    return bar


def _matrix(ax, grid: pd.DataFrame, *, annotations, cmap, vmin, vmax, colorbar, formatter, row_labels=True):
    """An annotated heatmap drawn with matplotlib alone (seaborn's redraws the whole figure per call)."""
    values = grid.to_numpy(dtype=float)
    rows, columns = values.shape
    norm = mpl.colors.Normalize(vmin=vmin, vmax=vmax)
    colormap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    mesh = ax.pcolormesh(np.arange(columns + 1), np.arange(rows + 1), values, cmap=colormap, norm=norm,
                         edgecolor="white", linewidth=0.5)
    if colorbar is not None:
        _colorbar(mesh, ax, colorbar, formatter)
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
                  colorbar: str | None = "Share of journeys", row_labels: bool = True, vmax: float | None = None,
                  ax=None):
    """Heatmap of shares by page (rows) and step or offset (columns), annotated in percent.

    Pages beyond the ``max_pages`` with the largest shares overall (or those not in
    ``pages``) are gathered in an ``(other pages)`` row, so every column still adds
    up to the same total; the special states (start, end) come last. Several
    plans are compared on one colour scale with :func:`share_heatmaps` (or by
    giving each chart the same ``vmax``).

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
    vmax : float, optional
        Share drawn darkest: the same for charts compared side by side. Default:
        this chart's largest share with a colour bar, 100% without.

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
    grid = _share_grid(table, column, value, pages, max_pages, special)
    ax = _axes(ax, min(1.4 + 0.3 * len(grid), 9.0))
    values = grid.to_numpy(dtype=float)
    if vmax is None:
        # Without a colour bar, charts side by side share one scale: the whole 0-100%.
        vmax = 1.0 if colorbar is None else max(float(values.max()), 0.01)
    _matrix(ax, grid, annotations=_percent_cells(values), cmap=_SHARES_CMAP, vmin=0, vmax=vmax,
            colorbar=colorbar, formatter=_percent_formatter(), row_labels=row_labels)
    return _finish(ax, title, xlabel, ylabel)


def _share_grid(table, column, value, pages, max_pages, special) -> pd.DataFrame:
    grid = table.pivot_table(index="page", columns=column, values=value, aggfunc="sum", fill_value=0.0)
    return _heatmap_rows(grid, pages, max_pages, special)


def _percent_cells(values: np.ndarray) -> np.ndarray:
    return np.where(values >= 0.005, np.vectorize(lambda v: f"{v:.0%}")(values), "")


def share_heatmaps(table: pd.DataFrame, *, column: str, title: str, xlabel: str, ylabel: str = "Page",
                   group: str = "plan", value: str = "share", pages=None, max_pages: int = 12,
                   special=("(start)", "(end)"), colorbar: str = "Share of the plan's journeys",
                   titles: Mapping | None = None):
    """One share heatmap per plan, stacked, on ONE colour scale, so a cell compares across plans.

    Every panel has the same rows (the pages with the largest shares over all the
    plans, unless ``pages`` is given; the rest gathered in ``(other pages)``) and
    the same colours for the same share; one colour bar serves them all.

    Parameters
    ----------
    table : DataFrame
        Tidy, one block per plan: ``group``, ``page``, ``column`` and ``value``
        (e.g. :func:`journey_utils.paths.step_matrix` with ``by_plan=True``);
        with an ``n`` column each panel is titled with its plan's journeys.
    column : str
        The column across the charts: ``'step'`` or ``'offset'``.
    title : str
        The figure's title (its alt text).
    xlabel, ylabel : str
        Axis labels of each panel.
    titles : mapping, optional
        Panel title per plan; default ``'<plan> (<n> journeys)'``.

    Returns
    -------
    ndarray of matplotlib Axes
        One per plan, top to bottom in table order.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> from journey_utils.paths import step_matrix
    >>> journeys = pd.DataFrame({"user_journey": ["A-B", "A", "B"], "subscription_type": ["x", "x", "y"]})
    >>> axes = plots.share_heatmaps(step_matrix(journeys, steps=2, by_plan=True), column="step",
    ...                             title="Page at each step", xlabel="Step")
    >>> [ax.get_title() for ax in axes]
    ['x (2 journeys)', 'y (1 journey)']
    """
    groups = list(dict.fromkeys(table[group].tolist())) if len(table) else []
    if not groups:
        return np.array([_empty(_axes(None, 4.0), title, xlabel, ylabel)])
    ordinary = table[~table["page"].isin(list(special))]
    if pages is None:
        totals = ordinary.groupby("page", observed=True)[value].sum().rename("total").rename_axis("name").reset_index()
        pages = totals.sort_values(["total", "name"], ascending=[False, True])["name"].head(max_pages).tolist()
    grids = [_share_grid(table[table[group] == g], column, value, pages, max_pages, special) for g in groups]
    # The same rows in every panel (a plan may lack the gathered row or a special state).
    rows = list(dict.fromkeys(r for grid in grids for r in grid.index))
    order = [r for r in rows if r not in special and r != OTHER_PAGES] + \
        [r for r in [OTHER_PAGES, *special] if r in rows]
    columns = sorted({c for grid in grids for c in grid.columns})
    grids = [grid.reindex(index=order, columns=columns, fill_value=0.0) for grid in grids]
    vmax = max(max(float(grid.to_numpy(dtype=float).max()) for grid in grids), 0.01)
    height = (1.0 + 0.3 * len(order)) * len(groups) + 0.6
    fig, axes = plt.subplots(len(groups), 1, figsize=(_WIDTH, min(height, 24.0)), layout="constrained",
                             squeeze=False)
    axes = axes[:, 0]
    counts = table.groupby(group, sort=False)["n"].first() if "n" in table.columns else None
    for ax, g, grid in zip(axes, groups, grids):
        _matrix(ax, grid, annotations=_percent_cells(grid.to_numpy(dtype=float)), cmap=_SHARES_CMAP, vmin=0,
                vmax=vmax, colorbar=None, formatter=_percent_formatter())
        if titles is not None and g in titles:
            name = titles[g]
        elif counts is not None:
            n = int(counts[g])
            name = f"{g} ({n:,} journey{'' if n == 1 else 's'})"
        else:
            name = str(g)
        ax.set_title(_text(name), fontsize=11)
        ax.set_xlabel(_text(xlabel))
        ax.set_ylabel(_text(ylabel))
    _colorbar(axes[0].collections[0], list(axes), colorbar, _percent_formatter())
    fig.suptitle(_title(title), fontsize=13, fontweight="bold")
    fig.set_label(str(title))
    return axes


def difference_heatmap(table: pd.DataFrame, *, column: str, title: str, xlabel: str, ylabel: str = "Page",
                       pages=None, max_pages: int = 12, special=("(start)", "(end)"),
                       colorbar: str = "Difference in share (percentage points)", colors=None, ax=None):
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
    colors : (color, color), optional
        Colours of the first and the second plan (e.g. from :func:`plan_colors`):
        cells where the first plan has more shade towards its colour, the others
        towards the second's, through white. Default: red and blue.

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
    if colors is not None:
        first, second = (colors[k] for k in list(colors)[:2]) if isinstance(colors, Mapping) else colors
        cmap = LinearSegmentedColormap.from_list("plan_difference", [second, "#FFFFFF", first])
    else:
        cmap = "RdBu_r"
    _matrix(ax, grid, annotations=annotations, cmap=cmap, vmin=-limit, vmax=limit, colorbar=colorbar,
            formatter=_points_formatter())
    for row, col in zip(*np.nonzero(excludes_zero)):
        ax.add_patch(Rectangle((col + 0.06, row + 0.06), 0.88, 0.88, fill=False, edgecolor="black", linewidth=1.4))
    return _finish(ax, title, xlabel, ylabel)


def coverage_curves(variants: pd.DataFrame, *, title: str, xlabel: str, ylabel: str, target: float | None = 0.8,
                    group: str = "plan", by: str = "share", colors=None, ax=None):
    """Cumulative share of journeys covered by the most common distinct journeys, one line per group.

    By default the x axis is the number of distinct journeys as a share of the
    group's buyers (journeys), so plans of any size compare: a line that climbs
    steeply means many buyers share a few journeys; a line along the dotted
    diagonal means every buyer's journey is different.

    Parameters
    ----------
    variants : DataFrame
        ``group``, ``rank``, ``n`` and ``cumulative_share`` columns, e.g. from
        :func:`journey_utils.paths.journey_variants` with ``by_plan=True`` (every
        variant, not a top few).
    title, xlabel, ylabel : str
        Chart title and axis labels.
    target : float, optional
        Draw a horizontal line at this share (e.g. 0.8).
    by : {'share', 'count'}, default 'share'
        x axis: distinct journeys as a share of the group's journeys, or their number.
    colors : dict, optional
        Colour of each group; the plan colours by default.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import plots
    >>> variants = pd.DataFrame({"plan": ["x", "x", "y"], "rank": [1, 2, 1], "n": [4, 4, 1],
    ...                          "cumulative_share": [0.6, 1.0, 1.0]})
    >>> ax = plots.coverage_curves(variants, title="Coverage", xlabel="Distinct journeys (share of buyers)",
    ...                            ylabel="Journeys covered")
    >>> [float(x) for x in ax.lines[0].get_xdata()]
    [0.0, 0.25, 0.5]
    """
    if by not in ("share", "count"):
        raise ValueError(f"coverage_curves: by must be 'share' or 'count'; found {by!r}")
    ax = _axes(ax, 4.5)
    if variants.empty:
        return _empty(ax, title, xlabel, ylabel)
    groups = list(dict.fromkeys(variants[group].tolist()))
    palette = _palette(groups, colors)
    for name in groups:
        rows = variants[variants[group] == name]
        ranks = np.r_[0, rows["rank"].to_numpy(dtype=float)]
        if by == "share":
            total = float(rows["n"].iloc[0]) if "n" in rows.columns else float(rows["count"].sum())
            ranks = ranks / total
        shares = np.r_[0.0, rows["cumulative_share"].to_numpy(dtype=float)]
        ax.step(ranks, shares, where="post", color=palette[name], linewidth=2, label=_text(name))
    if by == "share":
        ax.plot([0, 1], [0, 1], color="0.55", linestyle=":", linewidth=1.2, label="every journey different")
        ax.set_xlim(0, 1.0)
        _value_axis(ax.xaxis, True)
    else:
        ax.set_xlim(left=0)
        ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True))
    if target is not None:
        ax.axhline(target, color="0.3", linestyle="--", linewidth=1)
        ax.annotate(f"{target:.0%}", xy=(1, target), xycoords=("axes fraction", "data"), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=9, color="0.3")
    ax.set_ylim(0, 1.02)
    _value_axis(ax.yaxis, True)
    ax.legend(loc="lower right", fontsize=9)
    return _finish(ax, title, xlabel, ylabel)


def dumbbell(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str = "Page", legend: str = "",
             percent: bool = True, colors=None, ax=None):
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
    colors : (color, color), optional
        Colours of the two columns; by default a mid grey (before) and the dark
        accent (after), never a plan colour. Pass plan colours when the two
        columns are plans.

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
    if colors is None:
        colors = (_MID, NEUTRAL_PALETTE[0])
    elif isinstance(colors, Mapping):
        colors = [_lookup(c, {str(k): v for k, v in colors.items()}) or NEUTRAL for c in table.columns]
    ax.hlines(y, np.minimum(first, last), np.maximum(first, last), color="0.7", linewidth=2.5, zorder=1)
    ax.scatter(first, y, s=55, color=colors[0], zorder=2, label=_text(table.columns[0]))
    ax.scatter(last, y, s=55, color=colors[1], zorder=3, label=_text(table.columns[1]))
    ax.set_yticks(y, labels=[_name(v) for v in table.index])
    ax.set_ylim(rows - 0.5, -0.5)
    _value_axis(ax.xaxis, percent)
    if percent:
        ax.set_xlim(-0.02, 1.02)
    ax.legend(title=_text(legend), loc="best", fontsize=9)
    return _finish(ax, title, xlabel, ylabel)


# ---------------------------------------------------------------------------
# Journeys as flows
# ---------------------------------------------------------------------------


def _ordinal(n: int) -> str:
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _column_name(column: int, direction: str) -> str:
    """How the reader names a column of a step flow: '1st page', ..., or 'last page', '2nd to last page'."""
    if direction == "forward":
        return f"{_ordinal(column)} page"
    return "last page" if column == 1 else f"{_ordinal(column)} to last page"


def _direction(table: pd.DataFrame, direction) -> str:
    from journey_utils import flows as _flows

    if direction is None:
        direction = table.attrs.get("direction")
    if direction is None:
        direction = "backward" if (table["target"] == _flows.START).any() else "forward"
    if direction not in _flows.DIRECTIONS:
        raise ValueError(f"direction must be 'forward' or 'backward'; found {direction!r}")
    return direction


def _spread(centres: np.ndarray, gap: float, low: float, high: float) -> np.ndarray:
    """Label positions as near their nodes as possible, at least ``gap`` apart, inside [low, high]."""
    order = np.argsort(centres, kind="stable")
    placed = centres[order].astype(float)
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    if len(placed) and placed[-1] > high:
        placed[-1] = high
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    placed = np.maximum(placed, low)
    out = np.empty_like(placed)
    out[order] = placed
    return out


def step_flow(flows: pd.DataFrame, *, title: str, color=None, direction: str | None = None,
              xlabel: str | None = None, ylabel: str = "", shares: bool = True, ax=None):
    """A step-flow (Sankey-style) diagram: the pages of the journeys, column by column, joined by ribbons.

    Column 1 holds every journey's first page (backwards: its last page, drawn
    on the right), column 2 the next, and so on. Boxes and ribbons are as tall as
    the journeys they carry; a journey that ends goes to ``'(end)'`` (backwards:
    ``'(start)'``, light grey) and stops there; ``'(other pages)'`` (mid grey)
    gathers the pages outside the most common of a column. Each box is labelled
    with its page, its journeys and their share of all the journeys. A static
    drawing: no script, readable offline and in print.

    Parameters
    ----------
    flows : DataFrame
        From :func:`journey_utils.flows.step_flows`: ``step``, ``source``,
        ``target`` and ``journeys`` (``n`` used when present).
    title : str
        Chart title (and alt text).
    color : color, optional
        Colour of the pages and their ribbons: the plan's (:func:`plan_colors`)
        in a one-plan chart, a neutral grey by default.
    direction : {'forward', 'backward'}, optional
        How the flows were read; by default that of :func:`step_flows`.
    xlabel, ylabel : str, optional
        Axis labels; the x label defaults to a sentence on how to read the chart.
    shares : bool, default True
        Add each box's share of all the journeys to its count.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import flows, plots
    >>> journeys = pd.DataFrame({"user_journey": ["Home-Pricing-Checkout", "Home-Checkout", "Pricing"]})
    >>> ax = plots.step_flow(flows.step_flows(journeys, steps=3), title="Journeys, step by step")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['1st page', '2nd page', '3rd page']
    """
    from journey_utils import flows as _flows

    if flows.empty:
        return _empty(_axes(ax, 4.5), title, xlabel or "", ylabel)
    direction = _direction(flows, direction)
    end = _flows.END if direction == "forward" else _flows.START
    color = color if color is not None else NEUTRAL
    steps = int(flows["step"].max()) + 1
    total = int(flows["n"].iloc[0]) if "n" in flows.columns else int(flows.loc[flows["step"] == 1, "journeys"].sum())
    columns = [flows[flows["step"] == 1].groupby("source")["journeys"].sum()]
    columns += [flows[flows["step"] == c].groupby("target")["journeys"].sum() for c in range(1, steps)]

    def ordered(sizes: pd.Series) -> list:
        pages = [p for p in sizes.index if p not in (_flows.OTHER, end)]
        pages.sort(key=lambda p: (-int(sizes[p]), str(p)))
        return pages + [p for p in (_flows.OTHER, end) if p in sizes.index]

    orders = [ordered(sizes) for sizes in columns]
    most = max(len(o) for o in orders)
    gap = 0.04
    scale = (1 - gap * max(most - 1, 0)) / max(total, 1)
    tops = []
    for sizes, order in zip(columns, orders):
        heights = np.array([sizes[p] * scale for p in order])
        starts = np.r_[0.0, np.cumsum(heights + gap)[:-1]]
        tops.append(dict(zip(order, starts)))
    width = 0.05
    xs = [c if direction == "forward" else steps - 1 - c for c in range(steps)]
    height = max(4.5, min(9.0, 1.8 + 0.6 * most))
    ax = _axes(ax, height)

    def fill(name):
        return _LIGHT if name == end else _MID if name == _flows.OTHER else color

    # Ribbons: out of each source box in the order of the targets, into each target box in the order of the sources.
    curve = np.linspace(0, 1, 60)
    smooth = curve * curve * (3 - 2 * curve)
    for s in range(1, steps):
        block = flows[flows["step"] == s].copy()
        rank_source = {p: i for i, p in enumerate(orders[s - 1])}
        rank_target = {p: i for i, p in enumerate(orders[s])}
        block["h"] = block["journeys"].to_numpy(dtype=float) * scale
        block["rs"] = block["source"].map(rank_source)
        block["rt"] = block["target"].map(rank_target)
        block = block.sort_values(["rs", "rt"])
        block["out"] = block["source"].map(tops[s - 1]) + block.groupby("source")["h"].cumsum() - block["h"]
        block = block.sort_values(["rt", "rs"])
        block["in"] = block["target"].map(tops[s]) + block.groupby("target")["h"].cumsum() - block["h"]
        if direction == "forward":
            x0, x1 = xs[s - 1] + width, xs[s]
        else:
            x0, x1 = xs[s - 1], xs[s] + width
        x = x0 + (x1 - x0) * curve
        # Thin ribbons (under 2% of the journeys) are paler, so that the main flows stand out.
        faint = 0.02 * total * scale
        for target, y0, y1, h in block[["target", "out", "in", "h"]].itertuples(index=False, name=None):
            top = y0 + (y1 - y0) * smooth
            ribbon = _LIGHT if target == end else color
            alpha = 0.45 if target == end else 0.32 if h >= faint else 0.16
            ax.fill_between(x, top, top + h, color=ribbon, alpha=alpha, linewidth=0)
    # Boxes and their labels, kept apart when boxes are thin.
    axes_points = (height - 1.6) * 72
    label_gap = 24 / max(axes_points, 1) * 1.1
    for c, (sizes, order) in enumerate(zip(columns, orders)):
        tops_c = np.array([tops[c][p] for p in order])
        heights = np.array([sizes[p] * scale for p in order])
        for name, top, h in zip(order, tops_c, heights):
            ax.add_patch(Rectangle((xs[c], top), width, h, facecolor=fill(name), edgecolor="white", linewidth=0.5))
        places = _spread(tops_c + heights / 2, label_gap, label_gap / 2, 1 - label_gap / 2)
        for name, place in zip(order, places):
            n = int(sizes[name])
            number = f"{n:,} ({n / total:.0%})" if shares and total else f"{n:,}"
            ax.text(xs[c] + width + 0.015, place, f"{_name(name, 22, 2)}\n{number}", ha="left", va="center",
                    fontsize=8, color="0.1", linespacing=1.1,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.set_xlim(-0.05, steps - 1 + width + 0.6)
    ax.set_ylim(1.0 + gap, -gap)
    ax.set_xticks([x + width / 2 for x in xs], labels=[_column_name(c + 1, direction) for c in range(steps)])
    ax.set_yticks([])
    ax.grid(False)
    ax.tick_params(axis="x", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if xlabel is None:
        start = "from the first page on" if direction == "forward" else "back from the last page"
        xlabel = (f"Pages of each journey, {start}; box and ribbon heights are journeys. "
                  f"{end}: the journey {'ended' if direction == 'forward' else 'began'}; "
                  f"{_flows.OTHER}: pages outside the most common of that step; pale ribbons carry under 2% "
                  "of the journeys.")
        xlabel = "\n".join(textwrap.wrap(xlabel, 110))
    return _finish(ax, title, xlabel, ylabel)


def flow_difference(table: pd.DataFrame, *, title: str, colors=None, pair: tuple[str, str] | None = None,
                    top: int = 10, direction: str | None = None, xlabel: str = "Share of the plan's journeys",
                    ylabel: str = "", named_only: bool = True, min_n: int = 30, ax=None):
    """The step flows that differ most between two plans: both plans' shares on one line, '48% vs 89%'.

    Parameters
    ----------
    table : DataFrame
        From :func:`journey_utils.flows.flow_differences` (largest differences
        first).
    title : str
        Chart title (and alt text).
    colors : dict, optional
        Plan colours (:func:`plan_colors`); by default those of
        :func:`use_report_style`'s plans.
    pair : (str, str), optional
        The two plans (``plan_a``, ``plan_b``) to draw; default the first two plans
        compared (those given to :func:`~journey_utils.flows.flow_differences`).
    min_n : int, default 30
        A plan with fewer journeys is drawn with hollow markers (a small sample).
    top : int, default 10
        Flows drawn, the largest differences.
    direction : {'forward', 'backward'}, optional
        How the flows were read (names the steps); default guessed from the table.
    named_only : bool, default True
        Leave out flows from gathered pages to gathered pages (they name no page).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils import flows, plots
    >>> journeys = pd.DataFrame({"user_journey": ["A-B", "A-B", "A-C", "A-C"],
    ...                          "subscription_type": ["x", "x", "x", "y"]})
    >>> table = flows.flow_differences(journeys, ["x", "y"], steps=2)
    >>> ax = plots.flow_difference(table, title="Flows that differ")
    >>> [t.get_text() for t in ax.texts][:3]
    ['33% vs 100%', '67% vs 0%', 'x vs y']
    """
    ax_height = 1.8 + 0.5 * min(max(len(table), 1), top)
    if table.empty:
        return _empty(_axes(ax, 4.0), title, xlabel, ylabel)
    if pair is None:
        plans = table.attrs.get("plans")
        pair = tuple(plans[:2]) if plans else (str(table["plan_a"].iloc[0]), str(table["plan_b"].iloc[0]))
    from journey_utils.flows import OTHER

    keep = (table["plan_a"] == pair[0]) & (table["plan_b"] == pair[1])
    if named_only:
        keep &= ~((table["source"] == OTHER) & (table["target"] == OTHER))
    rows = table[keep].head(top)
    ax = _axes(ax, ax_height)
    if rows.empty:
        return _empty(ax, title, xlabel, ylabel)
    direction = _direction(rows, direction)
    palette = _palette(list(pair), colors)
    y = np.arange(len(rows))
    a = rows["share_a"].to_numpy(dtype=float)
    b = rows["share_b"].to_numpy(dtype=float)
    ax.hlines(y, np.minimum(a, b), np.maximum(a, b), color="0.75", linewidth=3, zorder=1)
    na, nb = int(rows["n_a"].iloc[0]), int(rows["n_b"].iloc[0])
    for values, plan, n, marker in ((a, pair[0], na, "o"), (b, pair[1], nb, "D")):
        face = "white" if n < min_n else palette[plan]
        ax.scatter(values, y, s=60, facecolors=face, edgecolors=palette[plan], linewidths=1.6, zorder=3,
                   marker=marker, label=_text(f"{plan} ({n:,} journey{'' if n == 1 else 's'})"))
    labels = [f"{_name(s, 24, 1)} → {_name(t, 24, 1)}\n{_column_name(step, direction)} to "
              f"{_column_name(step + 1, direction)}"
              for step, s, t in zip(rows["step"], rows["source"], rows["target"])]
    ax.set_yticks(y, labels=labels, fontsize=9)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    for row, (share_a, share_b) in enumerate(zip(a, b)):
        ax.annotate(_shares_pair(share_a, share_b), xy=(1, row), xycoords=("axes fraction", "data"),
                    xytext=(8, 0), textcoords="offset points", ha="left", va="center", fontsize=9, color="0.15")
    _pair_footer(ax, pair)
    _hollow_note(ax, min(na, nb) < min_n, f"hollow marker: fewer than {min_n:,} journeys")
    right = min(1.0, max(float(np.nanmax(np.r_[a, b])) * 1.1, 0.05))
    ax.set_xlim(-0.02 * right, right)
    _value_axis(ax.xaxis, True)
    ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    return _finish(ax, title, xlabel, ylabel)


#: The name of the contract: the plan-difference view of the step flows.
flow_differences = flow_difference
