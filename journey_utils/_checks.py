"""Argument checks shared by the public functions: say what was expected and what was found."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ALL_PLANS = "All"


def check_frame(data, function: str, columns: Iterable[str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{function}: expected a pandas DataFrame, found {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"{function}: column {', '.join(repr(c) for c in missing)} not found; "
            f"columns present: {', '.join(map(str, data.columns))}"
        )


def plan_mask(data: pd.DataFrame, plan, plan_column: str, function: str):
    """Boolean mask of the rows whose plan is ``plan`` ('All', a name or a list), or None for all."""
    if isinstance(plan, str) and plan == ALL_PLANS:
        return None
    check_frame(data, function, [plan_column])
    wanted = [plan] if isinstance(plan, str) else plan
    if not isinstance(wanted, Iterable) or isinstance(wanted, (bytes, dict)):
        raise TypeError(f"{function}: plan must be 'All', a plan name or a list of plan names; found {plan!r}")
    wanted = list(wanted)
    if not wanted or not all(isinstance(p, str) for p in wanted):
        raise ValueError(f"{function}: plan must be 'All', a plan name or a non-empty list of plan names; found {plan!r}")
    present = sorted(data[plan_column].dropna().unique().tolist(), key=str)
    unknown = [p for p in wanted if p not in present]
    if unknown:
        raise ValueError(
            f"{function}: unknown plan {', '.join(repr(p) for p in unknown)}; "
            f"plans present: {', '.join(map(str, present)) if present else '(none)'}"
        )
    return data[plan_column].isin(wanted).to_numpy()


def select_plan(data: pd.DataFrame, plan, plan_column: str, function: str) -> pd.DataFrame:
    """Rows of ``data`` whose plan is ``plan``: 'All', one plan name, or a list of names."""
    mask = plan_mask(data, plan, plan_column, function)
    return data if mask is None else data[mask]


def check_positive_int(value, name: str, function: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{function}: {name} must be a positive integer; found {value!r}")
    if value < 1:
        raise ValueError(f"{function}: {name} must be a positive integer; found {value!r}")
    return int(value)


def ranked(values, labels, *, name: str, index_name: str) -> pd.Series:
    """A Series sorted by value descending, then label ascending (deterministic ranks)."""
    values = np.asarray(values)
    labels = pa.array(labels, type=pa.large_string(), from_pandas=True)
    # One sort on both keys (labels compare as Python strings do: by code point).
    order = pc.sort_indices(pa.table({"value": values, "label": labels}),
                            sort_keys=[("value", "descending"), ("label", "ascending")]).to_numpy()
    index = pd.Index(pd.array(labels.take(order), dtype="str"), name=index_name)
    return pd.Series(values[order], index=index, name=name)
