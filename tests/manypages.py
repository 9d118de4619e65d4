"""Exports with many distinct page names, for tests and benchmarks of the comparison statistics.

Warehouse exports often carry ids or query strings in page names, so that a
handful of pages becomes tens of thousands of distinct names. :func:`with_page_ids`
makes such an export from any sessions frame; nothing generated here is stored.

Run as a script to time the comparison functions the plan-comparison notebook
calls on such an export::

    python -m tests.manypages SESSIONS_CSV [--pages 50000]
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def with_page_ids(sessions: pd.DataFrame, pages: int = 50_000, *, seed: int = 0,
                  target_column: str = "user_journey") -> pd.DataFrame:
    """A copy of ``sessions`` in which ``pages`` randomly chosen page visits get a distinct ``?id=<k>``.

    The result has about ``pages`` more distinct page names than ``sessions``
    (one per renamed visit); users, sessions and plans are unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user_journey": ["A-B", "B-C"]})
    >>> with_page_ids(df, 4)["user_journey"].tolist()
    ['A?id=0-B?id=1', 'B?id=2-C?id=3']
    """
    journeys = sessions[target_column].astype(str)
    split = journeys.str.split("-")
    lengths = split.str.len().to_numpy()
    flat = np.array([page for pages_ in split for page in pages_], dtype=object)
    if pages > len(flat):
        raise ValueError(f"with_page_ids: {pages} distinct pages asked for, but the sessions hold only "
                         f"{len(flat)} page visits")
    chosen = np.sort(np.random.default_rng(seed).choice(len(flat), size=pages, replace=False))
    flat[chosen] = [f"{page}?id={k}" for k, page in enumerate(flat[chosen])]
    bounds = np.r_[0, np.cumsum(lengths)]
    out = sessions.copy()
    out[target_column] = pd.array(["-".join(flat[a:b]) for a, b in zip(bounds[:-1], bounds[1:])], dtype="str")
    return out


def _main(argv=None) -> None:
    import argparse
    import time

    import journey_utils as ju
    from journey_utils import compare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sessions")
    parser.add_argument("--pages", type=int, default=50_000)
    args = parser.parse_args(argv)
    raw = with_page_ids(ju.load_sessions(args.sessions), args.pages)
    journeys = ju.preprocess(raw)
    plans = sorted(journeys["subscription_type"].unique())
    print(f"{len(journeys)} journeys, {ju.page_count(journeys).size} distinct pages, plans {plans}")
    kw = dict(confidence=0.95, alpha=0.05, min_n=50)
    calls = {
        "top_differences": lambda: compare.top_differences(journeys, plans, destinations=["Pricing"],
                                                           n_resamples=1999, **kw),
        "compare_presence": lambda: compare.compare_presence(journeys, plans, **kw),
        "compare_sequences": lambda: compare.compare_sequences(journeys, 3, plans, n_resamples=1999, **kw),
        "compare_destinations": lambda: compare.compare_destinations(journeys, "Pricing", plans, **kw),
        "session_windows": lambda: compare.session_windows(raw, 3, plans=plans, alpha=0.05, min_n=50),
    }
    results = {}
    for name, call in calls.items():
        start = time.perf_counter()
        results[name] = call()
        print(f"{name}: {time.perf_counter() - start:.2f} s", flush=True)
    start = time.perf_counter()
    compare.plan_contrasts(results["compare_presence"], confidence=0.95, alpha=0.05, min_n=50)
    print(f"plan_contrasts: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    _main()
