"""Argument checks shared by the public functions: say what was expected and what was found."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def check_frame(data, function: str, columns: Iterable[str], *, frame_type=pd.DataFrame,
                kind: str = "pandas DataFrame") -> None:
    """``data`` is a ``frame_type`` with ``columns``, or an error saying what was expected and found."""
    if not isinstance(data, frame_type):
        raise TypeError(f"{function}: expected a {kind}, found {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"{function}: column {', '.join(repr(c) for c in missing)} not found; "
            f"columns present: {', '.join(map(str, data.columns))}"
        )


#: The legacy spelling of "every plan" (``plan=None`` is the default and always means every plan).
ALL_PLANS = "All"


def plans_present(data: pd.DataFrame, plan_column: str) -> list[str]:
    """The plans in ``data``, sorted by name (missing values left out)."""
    return sorted(pd.unique(data[plan_column].dropna()).tolist(), key=str)


def plan_selection(data: pd.DataFrame, plan, plan_column: str, function: str, *, empty_means_all: bool = False,
                   for_report: bool = False):
    """The plans a ``plan=`` argument selects: a list of names, or None for every plan.

    The one reading of ``plan=`` shared by every public function:

    * ``None`` (the default) means every plan;
    * a string is one plan name, except ``'All'``, which still means every plan
      when no plan of the data is called ``All``; when one is, ``'All'`` is
      ambiguous and raises a ValueError asking for ``plan=None`` (every plan) or
      ``plan=['All']`` (the plan called All);
    * a list (or other iterable) of names means those plans, in that order;
      with ``empty_means_all`` an empty list means every plan, otherwise it is
      an error.

    Parameters
    ----------
    data : DataFrame
        Rows with a plan column.
    plan : None, str or list of str
        The selection.
    plan_column : str
        Name of the plan column.
    function : str
        Name of the calling function, for messages.
    empty_means_all : bool, default False
        Read an empty list as every plan (the notebooks' ``plans: []``).
    for_report : bool, default False
        Word an unknown plan for a report's reader (the parameters file is named
        as the place to fix it) rather than for a caller of ``function``.

    Returns
    -------
    list of str or None
        The plans named (checked to be present and not repeated), or None for
        every plan.

    Raises
    ------
    TypeError
        ``plan`` is not None, a string or a list of strings.
    ValueError
        A plan not in the data (the message lists the plans present), a plan
        named twice, an empty list, or ``'All'`` when a plan is called All.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils._checks import plan_selection
    >>> df = pd.DataFrame({"subscription_type": ["b", "a"]})
    >>> plan_selection(df, None, "subscription_type", "f") is None
    True
    >>> plan_selection(df, "b", "subscription_type", "f")
    ['b']
    """
    if plan is None:
        return None
    if isinstance(plan, str):
        if plan == ALL_PLANS:
            check_frame(data, function, [plan_column])
            if (data[plan_column] == ALL_PLANS).any():
                raise ValueError(
                    f"{function}: plan='All' is ambiguous: this input has a plan named 'All'; "
                    f"pass plan=None for every plan, or plan=['All'] for the plan named All"
                )
            return None
        wanted = [plan]
    elif isinstance(plan, (bytes, dict)) or not isinstance(plan, Iterable):
        raise TypeError(
            f"{function}: plan must be None (every plan), a plan name or a list of plan names; found {plan!r}"
        )
    else:
        wanted = list(plan)
    if not all(isinstance(p, str) for p in wanted):
        raise TypeError(f"{function}: plan must be None (every plan), a plan name or a list of plan names (str); "
                        f"found {plan!r}")
    if not wanted:
        if empty_means_all:
            return None
        raise ValueError(
            f"{function}: plan must be None (every plan), a plan name or a non-empty list of plan names; "
            f"found {plan!r}"
        )
    check_frame(data, function, [plan_column])
    present = plans_present(data, plan_column)
    known = set(present)
    unknown = [p for p in wanted if p not in known]
    if unknown:
        listed = ', '.join(map(str, present)) if present else '(none)'
        named = ', '.join(repr(p) for p in unknown)
        if for_report:
            raise ValueError(f"plan {named} is not in this input; plans present: {listed}. "
                             "Fix the plan name in the parameters file or remove that file.")
        raise ValueError(f"{function}: unknown plan {named}; plans present: {listed} (column {plan_column!r})")
    repeated = sorted({p for p in wanted if wanted.count(p) > 1})
    if repeated:
        raise ValueError(f"{function}: plan {', '.join(map(repr, repeated))} is named more than once in {plan!r}")
    return wanted


def selected_plans(data: pd.DataFrame, plan, plan_column: str, function: str, *,
                   empty_means_all: bool = False, for_report: bool = False, minimum: int = 0) -> list[str]:
    """The plans a ``plan=`` argument selects, as a list: every plan sorted by name, or those named.

    As :func:`plan_selection`, with "every plan" spelled out (the plans present,
    sorted by name). The notebooks' ``report.check_plans`` is
    ``selected_plans(data, wanted, plan_column, "check_plans", empty_means_all=True, for_report=True)``;
    the comparisons' ``compare.plans_in`` is this with ``minimum=2``.

    ``minimum`` is the fewest plans the caller needs (a comparison needs two);
    fewer raise a ValueError that names the plans found.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils._checks import selected_plans
    >>> df = pd.DataFrame({"subscription_type": ["b", "a", "All"]})
    >>> selected_plans(df, None, "subscription_type", "f")
    ['All', 'a', 'b']
    >>> selected_plans(df, ["All"], "subscription_type", "f")
    ['All']
    >>> selected_plans(df, "a", "subscription_type", "f", minimum=2)
    Traceback (most recent call last):
    ...
    ValueError: f: at least 2 plans are needed to compare; found 1 (a)
    """
    wanted = plan_selection(data, plan, plan_column, function, empty_means_all=empty_means_all,
                            for_report=for_report)
    if wanted is None:
        check_frame(data, function, [plan_column])
        wanted = plans_present(data, plan_column)
    if len(wanted) < minimum:
        raise ValueError(
            f"{function}: at least {minimum} plans are needed to compare; found {len(wanted)} "
            f"({', '.join(map(str, wanted)) if wanted else 'none'})"
        )
    return wanted


def plan_mask(data: pd.DataFrame, plan, plan_column: str, function: str):
    """Boolean mask of the rows whose plan is selected by ``plan`` (see :func:`plan_selection`), or None for all."""
    wanted = plan_selection(data, plan, plan_column, function)
    if wanted is None:
        return None
    return data[plan_column].isin(wanted).to_numpy()


def select_plan(data: pd.DataFrame, plan, plan_column: str, function: str) -> pd.DataFrame:
    """Rows of ``data`` whose plan is selected by ``plan``: None (every plan), one plan name, or a list."""
    mask = plan_mask(data, plan, plan_column, function)
    return data if mask is None else data[mask]


def check_positive_int(value, name: str, function: str, *, alternative: str | None = None) -> int:
    """``value`` as an int when it is a positive integer (numpy integers too, never a bool).

    The library's one positive-integer check. A value of the wrong type raises a
    TypeError (a string a ValueError when ``alternative`` names the string that
    is also allowed, e.g. ``"'All'"``), a zero or negative one a ValueError; both
    messages name the function, the argument and what was found.

    Examples
    --------
    >>> from journey_utils._checks import check_positive_int
    >>> check_positive_int(3, "n", "f")
    3
    >>> check_positive_int(0, "sessions", "f", alternative="'All'")
    Traceback (most recent call last):
    ...
    ValueError: f: sessions must be 'All' or a positive integer; found 0
    """
    allowed = "a positive integer" if alternative is None else f"{alternative} or a positive integer"
    message = f"{function}: {name} must be {allowed}; found {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise (ValueError if alternative is not None and isinstance(value, str) else TypeError)(message)
    if value < 1:
        raise ValueError(message)
    return int(value)


def check_unit_interval(value, name: str, function: str, *, closed: bool = False) -> float:
    """``value`` as a float when it is a number between 0 and 1 (a level, a share, a rate).

    The library's one check of a probability-like argument: strictly between 0
    and 1 (``alpha``, ``confidence``), or with ``closed`` from 0 to 1 inclusive.

    Examples
    --------
    >>> from journey_utils._checks import check_unit_interval
    >>> check_unit_interval(0.05, "alpha", "f")
    0.05
    >>> check_unit_interval(1, "alpha", "f")
    Traceback (most recent call last):
    ...
    ValueError: f: alpha must be a number between 0 and 1; found 1
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    ok = ok and bool(0 <= value <= 1 if closed else 0 < value < 1)
    if not ok:
        raise ValueError(f"{function}: {name} must be a number between 0 and 1; found {value!r}")
    return float(value)


def ranked(values, labels, *, name: str, index_name: str) -> pd.Series:
    """A Series sorted by value descending, then label ascending (deterministic ranks)."""
    values = np.asarray(values)
    labels = pa.array(labels, type=pa.large_string(), from_pandas=True)
    # One sort on both keys (labels compare as Python strings do: by code point).
    order = pc.sort_indices(pa.table({"value": values, "label": labels}),
                            sort_keys=[("value", "descending"), ("label", "ascending")]).to_numpy()
    index = pd.Index(pd.array(labels.take(order), dtype="str"), name=index_name)
    return pd.Series(values[order], index=index, name=name)
