"""Synthetic customer journeys: realistic sessions of any size, deterministic by seed.

The generator draws sessions in the project's input schema (one row per
session: ``user_id``, ``session_id``, ``subscription_type``, ``user_journey``)
from a small statistical model whose parameters form a *profile*, a plain
JSON-serialisable dict. :func:`fit_profile` estimates a profile from any table
of sessions; :func:`generate_sessions` draws from one. The bundled profile
(``journey_utils/synthetic/profile.json``) holds figures fitted on the business's
reference export (frequencies, probabilities, quantiles), none of its rows.

The model
---------
1. **Users.** Each user buys one plan, drawn from the plan mix, and is of one of
   a few *classes* (four by default), drawn from that plan's class mix. Users keep
   to their kind of pages: in the reference export a session is about seven times
   likelier to show career tracks or courses when the user's previous session did,
   and one chain for all users spreads such pages over far too many users. Each
   class has its own number of sessions per user (heavy-tailed overall: median 5,
   a few users above a hundred) and its own chain of pages (step 3).
2. **Position buckets.** Each session falls in one of five buckets: ``only``
   (a user's single session), ``first``, ``early`` and ``late`` (middle sessions
   before or after half-way) and ``last`` (the purchase session). Content shifts
   strongly with position: first sessions explore (sign-up, courses, career
   tracks), middle ones are dominated by log-ins, the last by checkout and
   coupon pages. Every distribution below is conditional on (plan, bucket).
3. **Runs of pages.** A journey is a sequence of runs, each one page repeated
   one or more times (``Checkout-Checkout-Checkout``). The first page is drawn
   given the first page of the user's previous session, as users come back to
   what they did last time (log-in streaks, repeated checkouts). Each next
   run's page, or the end of the session, follows a Markov chain over runs
   that never repeats the current page, with separate transitions for the
   first, second and later runs; first pages and transitions are those of the
   user's class. A run's length is drawn given (bucket, page)
   and whether it ends the session; the last run's length also depends on the
   parity of the pages before it, which is how the model reproduces the
   reference journeys, all of an even number of pages.
4. **Repeated sessions.** About one session in six is an exact copy of the
   user's previous one (the same short log-in visit, day after day). The chance
   of a copy depends on (plan, bucket), on the previous session's length (short
   ones are copied far more often) and on whether the previous session was
   itself identical to the one before it, since copies come in streaks. Steps
   2-3 draw the other, fresh sessions, which can also match the previous one by
   chance. The fit separates the two: the chance of a copy is the share of
   identical sessions that the fresh-session model does not already produce by
   chance, and the fresh-session model is refitted once with each identical
   session counted as fresh only in proportion to that chance.
5. **Identifiers.** Gaps between a user's sessions are drawn from the
   empirical, bimodal (back-to-back or far apart) distribution of gaps; a history
   longer than the observed period is compressed into it. Users start at times
   drawn from the empirical distribution of first sessions. Session ids number
   all sessions in time order on a site-wide counter that stretches with the
   number of sessions drawn, so ids are unique, grow with time and interleave
   across users. User ids are issued roughly in order of first session.

Classes are not observed: the fit finds them by EM for a mixture of users (each
user's sessions all follow one class's chain and session count), started from a
seeded k-means on the pages users visit, so a fit is deterministic.

Sparse cells (a plan with few users, a rare page) are shrunk towards pooled
estimates: each conditional distribution is ``(counts + s * pooled) / (n + s)``
with ``s = smoothing`` pseudo-observations, pooled over plans, then buckets, then
(for the chain) classes.

Generation is vectorised with numpy and Arrow: Python loops run only over the
steps of the chains (session positions, runs) and over blocks of sessions, never
over single sessions or pages.
"""

from __future__ import annotations

import argparse
import json
import math
import numbers
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journey_utils._checks import check_frame, check_positive_int
from journey_utils.columns import PLAN, SEPARATOR, SESSION, SESSION_COLUMNS, TARGET, USER

__all__ = ["fit_profile", "generate_sessions", "load_profile", "save_profile", "main"]

COLUMNS = SESSION_COLUMNS
POSITION_BUCKETS = ("only", "first", "early", "late", "last")
RUN_KINDS = ("inner", "last_after_even", "last_after_odd")
PROFILE_FORMAT = "journey_utils.synthetic profile"
PROFILE_VERSION = 3
# Version 1 profiles predate repeated sessions: they draw none. Versions 1 and 2
# predate user classes: all their users are of one class.
_READABLE_VERSIONS = (1, 2, 3)
_VERSIONS_TEXT = ", ".join(map(str, _READABLE_VERSIONS[:-1])) + f" or {_READABLE_VERSIONS[-1]}"

_ONLY, _FIRST, _EARLY, _LATE, _LAST = range(len(POSITION_BUCKETS))
# The chain's step is told apart for the first, second and later runs of a session.
_STEP_CLASSES = 3
_QUANTILE_LEVELS = np.linspace(0.0, 1.0, 101)
# Keeps a draw ``row + u`` strictly inside its row of a flat inverse-CDF table.
_U_SCALE = 1.0 - 1e-9
# Sessions per block when building journey strings: bounds the temporary byte index.
_STRING_BLOCK = 250_000
# Sessions of up to 2, 4, 6, 10 pages and longer: short ones are repeated far more often.
_REPEAT_LENGTH_EDGES = np.array([2, 4, 6, 10])
_REPEAT_CLASSES = len(_REPEAT_LENGTH_EDGES) + 1
# Rounds of fitting the fresh-session model and the chance of a copy from each other.
_FIT_ROUNDS = 2
# Kinds of user fitted by default, and the EM iterations that fit them (class mixes
# move by under 0.003 after 30 on the reference export).
_USER_CLASSES = 4
_EM_ITERATIONS = 30
# Lloyd iterations of the k-means that starts EM.
_KMEANS_ITERATIONS = 25
_MAX_SESSIONS = 2**40


# --------------------------------------------------------------------------
# Argument checks


def _check_count(value, name):
    value = check_positive_int(value, name, "generate_sessions")
    if value > _MAX_SESSIONS:
        raise ValueError(f"generate_sessions: {name} must be a positive integer up to {_MAX_SESSIONS}; "
                         f"found {value!r}")
    return value


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; found {seed!r}")
    return int(seed)


def _check_classes(classes):
    if isinstance(classes, bool) or not isinstance(classes, numbers.Integral) or not 1 <= classes <= 64:
        raise ValueError(f"fit_profile: user_classes must be an integer from 1 to 64; found {classes!r}")
    return int(classes)


def _check_smoothing(smoothing):
    if (
        isinstance(smoothing, bool)
        or not isinstance(smoothing, numbers.Real)
        or not math.isfinite(smoothing)
        or smoothing < 0
    ):
        raise ValueError(f"fit_profile: smoothing must be a finite number >= 0; found {smoothing!r}")
    return float(smoothing)


def _check_frame(data, columns):
    for role, column in columns.items():
        if not isinstance(column, str):
            raise ValueError(f"fit_profile: {role} must be a column name (str); found {column!r}")
    names = list(columns.values())
    if len(set(names)) != len(names):
        raise ValueError(f"fit_profile: the four columns must be distinct; found {names}")
    check_frame(data, "fit_profile", names)
    if len(data) == 0:
        raise ValueError("fit_profile: data has no rows")
    with_nulls = [c for c in names if data[c].isna().any()]
    if with_nulls:
        raise ValueError(f"fit_profile: column {', '.join(map(repr, with_nulls))} has missing values")


def _integer_column(series, name):
    if pd.api.types.is_bool_dtype(series.dtype):
        raise ValueError(f"fit_profile: column {name!r} must hold integers; found booleans")
    if not pd.api.types.is_integer_dtype(series.dtype):
        values = pd.to_numeric(series, errors="coerce")
        if values.isna().any() or (values != np.floor(values)).any():
            raise ValueError(f"fit_profile: column {name!r} must hold integers")
        series = values
    return series.to_numpy(dtype=np.int64)


# --------------------------------------------------------------------------
# Estimation helpers


def _normalise(counts, fallback):
    """Rows of ``counts`` scaled to sum to one; empty rows take ``fallback``."""
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = counts / totals
    return np.where(totals > 0, probs, np.broadcast_to(fallback, probs.shape))


def _shrink(counts, prior, smoothing):
    """``(counts + s * prior) / (n + s)`` row-wise: a sparse row leans on the pooled one."""
    counts = np.asarray(counts, dtype=float)
    denominator = counts.sum(axis=-1, keepdims=True) + smoothing
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = (counts + smoothing * prior) / denominator
    return np.where(denominator > 0, probs, np.broadcast_to(prior, probs.shape))


def _hierarchy(counts, smoothing, pooled):
    """Smooth ``counts[plan, bucket, ...]`` towards its bucket pool, itself smoothed towards ``pooled``."""
    by_bucket = _shrink(counts.sum(axis=0), pooled, smoothing)
    return _shrink(counts, by_bucket[None], smoothing)


def _count(shape, *index, weights=None):
    """Contingency table of the index arrays, one per axis of ``shape`` (weighted sums with ``weights``)."""
    flat = np.ravel_multi_index(tuple(np.asarray(i, dtype=np.int64) for i in index), shape)
    return np.bincount(flat, weights=weights, minlength=math.prod(shape)).reshape(shape).astype(float)


def _position_buckets(position, n_sessions):
    """Bucket of each session from its 0-based position among its user's ``n_sessions``."""
    middle = np.where(2 * position < n_sessions - 1, _EARLY, _LATE)
    return np.select(
        [n_sessions == 1, position == 0, position == n_sessions - 1],
        [_ONLY, _FIRST, _LAST],
        middle,
    ).astype(np.int8)


def _quantiles(values, default):
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.full(len(_QUANTILE_LEVELS), float(default))
    return np.quantile(values, _QUANTILE_LEVELS)


def _rounded(array):
    """``array`` as nested lists of floats cut to 6 significant digits: a small file, ample precision."""
    return json.loads(
        json.dumps(np.asarray(array, dtype=float).tolist()),
        parse_float=lambda text: float(f"{float(text):.6g}"),
    )


def _encode_pages(journeys, target_column):
    """Page codes of all journeys concatenated, the sorted page names, pages per journey."""
    lists = pc.split_pattern(pa.array(journeys, type=pa.string(), from_pandas=True), pattern=SEPARATOR)
    pages_per_session = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    encoded = pc.list_flatten(lists).dictionary_encode()
    names = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    if (names == "").any():
        raise ValueError(f"fit_profile: journeys in {target_column!r} must have pages, none of them empty")
    order = np.argsort(names.astype(str), kind="stable")
    recode = np.empty(len(order), dtype=np.int64)
    recode[order] = np.arange(len(order))
    codes = recode[encoded.indices.to_numpy(zero_copy_only=False)]
    return codes, [str(n) for n in names[order]], pages_per_session


def _runs(codes, pages_per_session):
    """Split journeys into runs: maximal stretches of one page inside a session."""
    session = np.repeat(np.arange(len(pages_per_session)), pages_per_session)
    new = np.r_[True, (codes[1:] != codes[:-1]) | (session[1:] != session[:-1])]
    start = np.flatnonzero(new)
    run_session = session[start]
    page = codes[start]
    is_first = np.r_[True, run_session[1:] != run_session[:-1]]
    is_last = np.r_[run_session[1:] != run_session[:-1], True]
    session_start = np.r_[0, np.cumsum(pages_per_session)[:-1]]
    first_run = np.flatnonzero(is_first)
    return {
        "session": run_session,
        "page": page,
        "length": np.diff(np.r_[start, len(codes)]),
        "is_first": is_first,
        "step": np.arange(len(start)) - np.repeat(first_run, np.diff(np.r_[first_run, len(start)])),
        "is_last": is_last,
        "next": np.where(is_last, -1, np.r_[page[1:], -1]),
        "prefix_parity": (start - session_start[run_session]) % 2,
    }


def _run_length_tables(runs, kind, bucket, weight, n_pages, smoothing):
    """Run-length distributions by (kind, bucket, page) on the support 1..longest run of the page."""
    longest = np.full(n_pages, 2, dtype=np.int64)
    np.maximum.at(longest, runs["page"], runs["length"])
    shape = (len(RUN_KINDS), len(POSITION_BUCKETS), n_pages, int(longest.max()))
    counts = _count(shape, kind, bucket, runs["page"], runs["length"] - 1, weights=weight)
    every_run = _normalise(counts.sum(axis=(0, 1)), np.eye(shape[-1])[0])
    # A page never seen ending a session borrows the last-run lengths of all pages.
    by_kind = _normalise(counts.sum(axis=(1, 2)), 0)
    by_kind = by_kind[:, None] * (np.arange(shape[-1]) < longest[:, None])[None]
    by_kind = _normalise(by_kind, every_run[None])
    pooled = _normalise(counts.sum(axis=1), by_kind)
    tables = _shrink(counts, pooled[:, None], smoothing)
    return {
        name: [[_rounded(tables[k, b, v, : longest[v]]) for v in range(n_pages)] for b in range(shape[1])]
        for k, name in enumerate(RUN_KINDS)
    }


def _run_index(runs, context, n_pages):
    """Per run: its (plan, bucket, step class, page, following page or end) cell of the chain."""
    plan_codes, bucket = context[0], context[1]
    following = np.where(runs["next"] < 0, n_pages, runs["next"])
    return (plan_codes[runs["session"]], bucket[runs["session"]], np.minimum(runs["step"], _STEP_CLASSES - 1),
            runs["page"], following)


def _chain_tables(runs, context, weight, n_plans, n_pages, smoothing):
    """First-page and next-page tables of every user class.

    ``weight[k, s]`` is how much session ``s`` counts for class ``k`` (a share of
    its user). Each class's tables are smoothed towards the class's own pooled
    ones, and those towards the pooled ones of all classes.
    """
    n_classes, n_buckets = len(weight), len(POSITION_BUCKETS)
    shape = (n_plans, n_buckets, n_pages + 1, n_pages)
    first_counts = np.stack([_count(shape, *context, weights=w) for w in weight])
    overall = _normalise(first_counts.sum(axis=(0, 1, 2, 3)), 1.0 / n_pages)
    first_page = np.empty_like(first_counts)
    for k in range(n_classes):
        by_class = _shrink(first_counts[k].sum(axis=(0, 1, 2)), overall, smoothing)
        first_page[k] = _hierarchy(first_counts[k], smoothing,
                                   _shrink(first_counts[k].sum(axis=(0, 1)), by_class, smoothing))

    cells = _run_index(runs, context, n_pages)
    shape = (n_plans, n_buckets, _STEP_CLASSES, n_pages, n_pages + 1)
    next_counts = np.stack([_count(shape, *cells, weights=w[runs["session"]]) for w in weight])
    any_step = _normalise(next_counts.sum(axis=(0, 1, 2, 3)), np.eye(n_pages + 1)[n_pages])
    next_page = np.empty_like(next_counts)
    for k in range(n_classes):
        by_class = _shrink(next_counts[k].sum(axis=(0, 1, 2)), any_step, smoothing)
        next_page[k] = _hierarchy(next_counts[k], smoothing,
                                  _shrink(next_counts[k].sum(axis=(0, 1)), by_class, smoothing))
    return first_page, next_page


def _class_log_likelihood(runs, context, first_page, next_page, n_pages):
    """``[k, s]``: log-probability of session ``s``'s pages under class ``k``'s chain.

    Run lengths are left out: they do not depend on the class.
    """
    cells, n_sessions = _run_index(runs, context, n_pages), len(context[0])
    # One class at a time: a row over all runs is the largest temporary.
    return np.stack([
        np.log(np.maximum(first[context], 1e-300))
        + np.bincount(runs["session"], weights=np.log(np.maximum(chain[cells], 1e-300)), minlength=n_sessions)
        for first, chain in zip(first_page, next_page)
    ])


def _initial_classes(runs, session_user, n_users, n_pages, n_classes):
    """Soft class memberships to start EM: k-means on the pages each user visits.

    Seeded, so a fit is deterministic. Users are compared by the square roots of
    their shares of runs on each page, which keeps heavy users from dominating.
    """
    if n_classes == 1:
        return np.ones((n_users, 1))
    shares = _normalise(_count((n_users, n_pages), session_user[runs["session"]], runs["page"]), 1.0 / n_pages)
    points = np.sqrt(shares)
    rng = np.random.default_rng(0)
    centres = [points[rng.integers(n_users)]]
    for _ in range(1, n_classes):
        distance = np.min([((points - c) ** 2).sum(axis=1) for c in centres], axis=0)
        total = distance.sum()
        centres.append(points[rng.choice(n_users, p=distance / total) if total > 0 else rng.integers(n_users)])
    centres = np.array(centres)
    for _ in range(_KMEANS_ITERATIONS):
        # Squared distances up to each point's own norm, which does not change the nearest.
        nearest = ((centres ** 2).sum(axis=1) - 2 * points @ centres.T).argmin(axis=1)
        for k in range(n_classes):
            if (nearest == k).any():
                centres[k] = points[nearest == k].mean(axis=0)
    # Soft, so that EM can still move users between classes.
    return 0.5 * np.eye(n_classes)[nearest] + 0.5 / n_classes


def _fit_classes(runs, context, weight, membership, user_plan, n_per_user, session_user, n_plans, n_pages,
                 smoothing):
    """EM for a mixture of users: each user's class sets how many sessions they have
    and the chain all their sessions follow.

    Returns the chain tables, the sessions per user of every class, the class mix of
    every plan, and each user's class memberships (posterior probabilities).
    """
    n_users, n_classes = membership.shape
    user_index = (np.repeat(np.arange(n_classes), n_users), np.tile(user_plan, n_classes),
                  np.tile(n_per_user - 1, n_classes))
    spu_shape = (n_classes, n_plans, int(n_per_user.max()))
    for _ in range(_EM_ITERATIONS if n_classes > 1 else 1):
        # M-step: every session counts for each class in proportion to its user's membership.
        first_page, next_page = _chain_tables(runs, context, weight * membership[session_user].T,
                                              n_plans, n_pages, smoothing)
        spu_counts = _count(spu_shape, *user_index, weights=membership.T.ravel())
        by_plan = _shrink(spu_counts.sum(axis=0), _normalise(spu_counts.sum(axis=(0, 1)), 0), smoothing)
        sessions_per_user = _shrink(spu_counts, by_plan[None], smoothing) if n_classes > 1 else by_plan[None]
        mix = _normalise(_count((n_classes, n_plans), *user_index[:2], weights=membership.T.ravel()).T + 1.0,
                         1.0 / n_classes)
        if n_classes == 1:
            break
        # E-step: a copied session tells nothing of its user's pages, so sessions count by weight.
        by_session = _class_log_likelihood(runs, context, first_page, next_page, n_pages) * weight
        log_posterior = np.stack([np.bincount(session_user, weights=row, minlength=n_users) for row in by_session]).T
        with np.errstate(divide="ignore"):
            log_posterior += np.log(mix[user_plan]) + np.log(np.maximum(
                sessions_per_user[:, user_plan, n_per_user - 1].T, 1e-300))
        log_posterior -= log_posterior.max(axis=1, keepdims=True)
        membership = np.exp(log_posterior)
        membership /= membership.sum(axis=1, keepdims=True)
    return first_page, next_page, mix, sessions_per_user, membership


def _coincidence(runs, later, plan_codes, bucket, first_page, next_page, run_length):
    """Chance that a fresh draw for each ``later`` session equals the session before it.

    The product of the model's probabilities of the previous session's first page
    (following itself), of each of its runs' pages and lengths, and of its end,
    all in the later session's (plan, bucket).
    """
    run_start = np.flatnonzero(runs["is_first"])
    n_runs = np.diff(np.r_[run_start, len(runs["page"])])
    previous = later - 1
    count = n_runs[previous]
    index = np.repeat(run_start[previous] - np.r_[0, np.cumsum(count)[:-1]], count) + np.arange(count.sum())
    plan, where = np.repeat(plan_codes[later], count), np.repeat(bucket[later], count)
    page, step = runs["page"][index], runs["step"][index]
    following = np.where(runs["next"][index] < 0, first_page.shape[-1], runs["next"][index])
    kind = np.where(runs["is_last"][index], 1 + runs["prefix_parity"][index], 0)
    longest = max(len(pmf) for table in run_length.values() for row in table for pmf in row)
    lengths = np.zeros((len(RUN_KINDS), len(POSITION_BUCKETS), first_page.shape[-1], longest))
    for k, name in enumerate(RUN_KINDS):
        for b, row in enumerate(run_length[name]):
            for v, pmf in enumerate(row):
                lengths[k, b, v, : len(pmf)] = pmf
    length = runs["length"][index]
    per_run = next_page[plan, where, np.minimum(step, _STEP_CLASSES - 1), page, following] * np.where(
        length <= longest, lengths[kind, where, page, np.minimum(length, longest) - 1], 0.0
    )
    first = runs["page"][run_start[previous]]
    with np.errstate(divide="ignore"):
        log_chance = np.log(first_page[plan_codes[later], bucket[later], first, first])
        owner = np.repeat(np.arange(len(later)), count)
        log_chance += np.bincount(owner, weights=np.log(per_run), minlength=len(later))
    return np.exp(log_chance)


# --------------------------------------------------------------------------
# Fitting


def fit_profile(
    data,
    *,
    plan_column=PLAN,
    target_column=TARGET,
    user_column=USER,
    session_column=SESSION,
    smoothing=5.0,
    user_classes=_USER_CLASSES,
):
    """Estimate the generator's parameters from a table of sessions.

    Parameters
    ----------
    data : DataFrame
        One row per session. Each user keeps one plan on all their rows;
        journeys are page names joined by ``-``, at least one page each.
    plan_column, target_column, user_column, session_column : str
        Names of the plan, journey, user id and session id columns. Session ids
        order each user's sessions in time.
    smoothing : float, default 5.0
        Pseudo-observations by which each conditional distribution is shrunk
        towards its pooled estimate; 0 keeps the raw frequencies.
    user_classes : int, default 4
        Kinds of user, each with its own page transitions (a user's sessions all
        follow their kind's). 1 fits one chain for everybody.

    Returns
    -------
    dict
        A JSON-serialisable profile: plan mix, class mix, sessions per user and
        first-page probabilities and run transitions of each class, run lengths,
        repeated sessions and the id timelines. Draw from it with
        :func:`generate_sessions`; keep it with :func:`save_profile`.

    Raises
    ------
    ValueError
        If a column is missing or has missing values, ids are not integers, a
        (user, session) pair repeats, a user has several plans, or a journey has
        an empty page.

    Examples
    --------
    >>> from journey_utils.synthetic import fit_profile, generate_sessions
    >>> profile = fit_profile(generate_sessions(2_000, seed=1))
    >>> profile["plans"]
    ['Annual', 'Monthly', 'Quarterly']
    >>> len(generate_sessions(50, seed=2, profile=profile))
    50
    """
    columns = {
        "user_column": user_column,
        "session_column": session_column,
        "plan_column": plan_column,
        "target_column": target_column,
    }
    _check_frame(data, columns)
    smoothing = _check_smoothing(smoothing)
    user_classes = _check_classes(user_classes)
    history = _History.of(data, **columns)
    model = _fit_model(history, smoothing, user_classes)
    return {
        "format": PROFILE_FORMAT,
        "version": PROFILE_VERSION,
        "fitted_on": {"sessions": int(len(history.users)), "users": int(history.n_users)},
        "smoothing": smoothing,
        "pages": history.pages,
        "plans": [str(p) for p in history.plans],
        "position_buckets": list(POSITION_BUCKETS),
        "plan_mix": _rounded(np.bincount(history.user_plan, minlength=history.n_plans) / history.n_users),
        "class_mix": _rounded(model["class_mix"]),
        "sessions_per_user": _rounded(model["sessions_per_user"]),
        "first_page": _rounded(model["first_page"]),
        "next_page": _rounded(model["next_page"]),
        "run_length": model["run_length"],
        "repeat_previous": _rounded(model["repeat_previous"]),
        "max_runs": int(2 * np.bincount(history.runs["session"], minlength=len(history.users)).max()),
        **_id_timelines(history),
    }


class _History:
    """The sessions of :func:`fit_profile` sorted by user then session, with what the fit needs of them.

    Per session (in that order): ``users``, ``sessions`` (ids), ``plan_codes``,
    ``session_user`` (user number), ``position`` in the user's history and its
    ``bucket``, ``journeys``, ``pages_per_session``, ``repeat`` (identical to the
    user's previous session); per user: ``user_start``, ``n_per_user``,
    ``user_plan``; ``plans`` and ``pages`` (names), ``codes`` and ``runs`` (the
    pages as codes and as runs of one page).
    """

    @classmethod
    def of(cls, data, *, user_column, session_column, plan_column, target_column) -> _History:
        self = cls()
        self._order(data, user_column, session_column)
        self._users(data, plan_column)
        self._journeys(data, target_column)
        return self

    def _order(self, data, user_column, session_column):
        """Sessions sorted by user, then session id; a (user, session) pair must not repeat."""
        users = _integer_column(data[user_column], user_column)
        sessions = _integer_column(data[session_column], session_column)
        self.order = np.lexsort((sessions, users))
        self.users, self.sessions = users[self.order], sessions[self.order]
        self.same_user = self.users[1:] == self.users[:-1]
        if (self.same_user & (self.sessions[1:] == self.sessions[:-1])).any():
            raise ValueError(f"fit_profile: ({user_column}, {session_column}) pairs must be unique")

    def _users(self, data, plan_column):
        """Users, their plans (one per user) and the position of each session in its user's history."""
        self.plans, self.plan_codes = np.unique(data[plan_column].astype(str).to_numpy()[self.order],
                                                return_inverse=True)
        self.user_start = np.flatnonzero(np.r_[True, ~self.same_user])
        self.n_per_user = np.diff(np.r_[self.user_start, len(self.users)])
        self.user_plan = self.plan_codes[self.user_start]
        if (self.plan_codes != np.repeat(self.user_plan, self.n_per_user)).any():
            raise ValueError(f"fit_profile: each user must have one {plan_column!r} on all their sessions")
        self.n_plans, self.n_users = len(self.plans), len(self.user_start)
        self.session_user = np.repeat(np.arange(self.n_users), self.n_per_user)
        self.position = np.arange(len(self.users)) - np.repeat(self.user_start, self.n_per_user)
        self.bucket = _position_buckets(self.position, np.repeat(self.n_per_user, self.n_per_user))

    def _journeys(self, data, target_column):
        """The pages of every session as codes and runs, and which sessions repeat the previous one."""
        self.journeys = data[target_column].astype(str).to_numpy(dtype=object)[self.order]
        self.codes, self.pages, self.pages_per_session = _encode_pages(self.journeys, target_column)
        self.n_pages = len(self.pages)
        self.runs = _runs(self.codes, self.pages_per_session)
        # Sessions identical to the user's previous one.
        self.repeat = np.r_[False, self.same_user & (self.journeys[1:] == self.journeys[:-1])]


def _fit_model(history, smoothing, user_classes) -> dict:
    """The fitted chains, class mix, sessions per user, run lengths and repeats (:func:`fit_profile`).

    A fresh draw can reproduce the previous session by chance, so an identical
    session is a copy or a fresh session, in proportion to the chance of a copy
    and that coincidence. The first round counts every session as fresh; the
    second refits the fresh-session model with identical sessions discounted.
    """
    h, runs, n_pages = history, history.runs, history.n_pages
    # A session's first page depends on the first page of the user's previous session;
    # n_pages stands for "no previous session".
    first_of_session = runs["page"][runs["is_first"]]
    previous_first = np.where(h.position == 0, n_pages, np.r_[n_pages, first_of_session[:-1]])
    context = (h.plan_codes, h.bucket, previous_first, first_of_session)
    # Whether a later session repeats the previous one depends on (plan, bucket),
    # on whether the previous one was itself a repeat, and on its length.
    later = np.flatnonzero(h.position > 0)
    cell = (h.plan_codes[later], h.bucket[later], h.repeat[later - 1].astype(np.int64),
            _length_class(h.pages_per_session[later - 1]))
    shape = (h.n_plans, len(POSITION_BUCKETS), 2, _REPEAT_CLASSES, 2)
    cell_index = np.ravel_multi_index(cell, shape[:-1])
    counts = _count(shape, *cell, h.repeat[later])
    weight = np.ones(len(h.users))
    run_kind = np.where(runs["is_last"], 1 + runs["prefix_parity"], 0)
    membership = _initial_classes(runs, h.session_user, h.n_users, n_pages, user_classes)
    for _ in range(_FIT_ROUNDS):
        run_length = _run_length_tables(runs, run_kind, h.bucket[runs["session"]], weight[runs["session"]], n_pages,
                                        smoothing)
        first_page, next_page, class_mix, sessions_per_user, membership = _fit_classes(
            runs, context, weight, membership, h.user_plan, h.n_per_user, h.session_user, h.n_plans, n_pages,
            smoothing)
        # The chance of a coincidence under each class, weighed by the user's membership.
        chance = sum(
            membership[h.session_user[later], k]
            * _coincidence(runs, later, h.plan_codes, h.bucket, first_page[k], next_page[k], run_length)
            for k in range(user_classes)
        )
        expected = np.bincount(cell_index, weights=chance, minlength=math.prod(shape[:-1])).reshape(shape[:-1])
        repeat_counts = counts.copy()
        repeat_counts[..., 1] = np.maximum(counts[..., 1] - expected, 0.0)
        repeat_previous = _hierarchy(repeat_counts, smoothing, _normalise(repeat_counts.sum(axis=(0, 1)), np.eye(2)[0]))
        copied = repeat_previous[..., 1].ravel()[cell_index]
        fresh_share = (1 - copied) * chance / np.maximum(copied + (1 - copied) * chance, 1e-300)
        weight[later] = np.where(h.repeat[later], fresh_share, 1.0)
    return {"run_length": run_length, "first_page": first_page, "next_page": next_page, "class_mix": class_mix,
            "sessions_per_user": sessions_per_user, "repeat_previous": repeat_previous}


def _id_timelines(history) -> dict:
    """How session ids grow (first id, span, where users start, gaps) and how user ids are spaced."""
    sessions, users = history.sessions, history.users
    first_session, last_session = int(sessions.min()), int(sessions.max())
    span = float(max(last_session - first_session, 1))
    gaps = np.diff(sessions)[history.same_user]
    first_user, last_user = int(users.min()), int(users.max())
    return {
        "session_ids": {
            "first": max(first_session, 1),
            "span": span,
            "start_quantiles": _rounded(_quantiles((sessions[history.user_start] - first_session) / span, 0.0)),
            "log_gap_quantiles": _rounded(_quantiles(np.log(gaps / span), math.log(1.0 / span))),
        },
        "user_ids": {
            "first": max(first_user, 1),
            "mean_gap": float(max((last_user - first_user) / max(history.n_users - 1, 1), 1.0)),
        },
    }


# --------------------------------------------------------------------------
# Profiles


def load_profile(path=None):
    """Read a profile from a JSON file, by default the bundled one.

    Parameters
    ----------
    path : str or path-like, optional
        A file written by :func:`save_profile`. ``None`` reads the profile
        bundled with the package, fitted on the reference export.

    Returns
    -------
    dict
        The profile.

    Examples
    --------
    >>> from journey_utils.synthetic import load_profile
    >>> load_profile()["position_buckets"]
    ['only', 'first', 'early', 'late', 'last']
    """
    if path is None:
        text = resources.files("journey_utils.synthetic").joinpath("profile.json").read_text(encoding="utf-8")
        source = "the bundled profile"
    else:
        if not isinstance(path, (str, os.PathLike)):
            raise ValueError(f"profile path must be a str or path-like; found {path!r}")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"cannot read profile {os.fspath(path)!r}: {error.strerror or error}") from error
        source = os.fspath(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"profile {source!r} is not valid JSON: {error}") from error


def _profile_text(value, indent=0):
    """JSON with one line per distribution: readable, and diffs stay small."""
    pad = " " * indent
    if isinstance(value, dict):
        items = [f'{pad} {json.dumps(k)}: {_profile_text(v, indent + 1).lstrip()}' for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], (list, dict)):
        items = [_profile_text(v, indent + 1) for v in value]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return pad + json.dumps(value, separators=(",", ":"))


def save_profile(profile, path):
    """Write a profile as JSON, one line per distribution.

    Parameters
    ----------
    profile : dict
        A profile from :func:`fit_profile`.
    path : str or path-like
        File to write; its folder is created if needed.

    Examples
    --------
    >>> import tempfile, os
    >>> from journey_utils.synthetic import fit_profile, generate_sessions, load_profile, save_profile
    >>> profile = fit_profile(generate_sessions(500, seed=3))
    >>> path = os.path.join(tempfile.mkdtemp(), "profile.json")
    >>> save_profile(profile, path)
    >>> load_profile(path) == profile
    True
    """
    _Model(profile)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_profile_text(profile) + "\n", encoding="utf-8")


def _table(values, name, shape):
    """``values`` as probabilities over the last axis; ``None`` in ``shape`` accepts any size."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"profile: {name} must be numeric") from error
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        raise ValueError(f"profile: {name} must have shape {shape}; found {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any() or (array.sum(axis=-1) <= 0).any():
        raise ValueError(f"profile: {name} must hold non-negative numbers with a positive total per row")
    return array / array.sum(axis=-1, keepdims=True)


def _inverse_cdf_table(probs):
    """Flat table to draw from many categorical rows with a single ``searchsorted``.

    Row ``r``'s cumulative probabilities are stored shifted by ``r``, so a draw
    ``r + u`` with ``0 <= u < 1`` lands inside row ``r``.
    """
    width = probs.shape[-1]
    rows = probs.reshape(-1, width)
    cdf = np.cumsum(rows, axis=-1)
    cdf /= cdf[:, -1:]
    # From the last positive probability on the CDF is exactly 1, so no draw lands past it.
    last_positive = width - 1 - np.argmax(rows[:, ::-1] > 0, axis=-1)
    cdf[np.arange(width) >= last_positive[:, None]] = 1.0
    return (cdf + np.arange(len(rows))[:, None]).ravel(), width


def _draw_categorical(table, rows, rng):
    flat, width = table
    keys = rows + rng.random(len(rows)) * _U_SCALE
    return np.minimum(np.searchsorted(flat, keys, side="right") - rows * width, width - 1)


class _Model:
    """A validated profile turned into sampling tables."""

    def __init__(self, profile):
        if not isinstance(profile, dict):
            raise ValueError(f"profile must be a dict from fit_profile or a path; found {type(profile).__name__}")
        if profile.get("format") != PROFILE_FORMAT or profile.get("version") not in _READABLE_VERSIONS:
            raise ValueError(
                f"profile: expected format {PROFILE_FORMAT!r} version {_VERSIONS_TEXT}; "
                f"found {profile.get('format')!r} version {profile.get('version')!r}"
            )
        self.pages = self._names(profile, "pages")
        self.plans = self._names(profile, "plans")
        if any(p == "" or SEPARATOR in p for p in self.pages):
            raise ValueError(f"profile: page names must be non-empty and free of {SEPARATOR!r}")
        if profile.get("position_buckets") != list(POSITION_BUCKETS):
            raise ValueError(f"profile: position_buckets must be {list(POSITION_BUCKETS)}")
        n_plans, n_pages, n_buckets = len(self.plans), len(self.pages), len(POSITION_BUCKETS)

        def table(key, shape):
            if key not in profile:
                raise ValueError(f"profile: {key!r} is missing")
            return _table(profile[key], repr(key), shape)

        plan_mix = table("plan_mix", (n_plans,))
        first_shape = (n_plans, n_buckets, n_pages + 1, n_pages)
        next_shape = (n_plans, n_buckets, _STEP_CLASSES, n_pages, n_pages + 1)
        if profile["version"] >= 3:
            class_mix = table("class_mix", (n_plans, None))
            n_classes = class_mix.shape[1]
            sessions_per_user = table("sessions_per_user", (n_classes, n_plans, None))
            first_page = table("first_page", (n_classes, *first_shape))
            next_page = table("next_page", (n_classes, *next_shape))
        else:
            class_mix, n_classes = np.ones((n_plans, 1)), 1
            sessions_per_user = table("sessions_per_user", (n_plans, None))[None]
            first_page, next_page = table("first_page", first_shape)[None], table("next_page", next_shape)[None]
        self.n_classes = n_classes
        self.plan_table = _inverse_cdf_table(plan_mix[None])
        self.class_table = _inverse_cdf_table(class_mix)
        # Rows by plan, then class: a user's class is one more coordinate of the context.
        self.sessions_table = _inverse_cdf_table(np.swapaxes(sessions_per_user, 0, 1))
        self.first_table = _inverse_cdf_table(np.swapaxes(first_page, 0, 1))
        self.next_table = _inverse_cdf_table(np.swapaxes(next_page, 0, 1))
        expected_sessions = sessions_per_user @ np.arange(1, sessions_per_user.shape[-1] + 1)
        self.mean_sessions = float(plan_mix @ (class_mix * expected_sessions.T).sum(axis=1))
        repeat_shape = (n_plans, n_buckets, 2, _REPEAT_CLASSES, 2)
        if profile["version"] == 1:
            self.repeat_table = _inverse_cdf_table(np.broadcast_to(np.eye(2)[0], repeat_shape))
        else:
            self.repeat_table = _inverse_cdf_table(table("repeat_previous", repeat_shape))
        self._read_run_lengths(profile.get("run_length"), n_buckets, n_pages)

        self.max_runs = profile.get("max_runs")
        if isinstance(self.max_runs, bool) or not isinstance(self.max_runs, int) or self.max_runs < 1:
            raise ValueError("profile: 'max_runs' must be a positive integer")
        self._read_ids(profile)

    @staticmethod
    def _names(profile, key):
        names = profile.get(key)
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ValueError(f"profile: {key!r} must be a non-empty list of names")
        if len(set(names)) != len(names):
            raise ValueError(f"profile: {key!r} has duplicate names")
        return names

    def _read_run_lengths(self, lengths, n_buckets, n_pages):
        if not isinstance(lengths, dict) or set(lengths) != set(RUN_KINDS):
            raise ValueError(f"profile: 'run_length' must map {list(RUN_KINDS)} to tables")
        pmfs = []
        support = None
        for kind in RUN_KINDS:
            rows = lengths[kind]
            if not (
                isinstance(rows, list)
                and len(rows) == n_buckets
                and all(isinstance(r, list) and len(r) == n_pages and all(isinstance(p, list) for p in r) for r in rows)
            ):
                raise ValueError(f"profile: run_length[{kind!r}] must be a [bucket][page] table of lists")
            support = support or [len(pmf) for pmf in rows[0]]
            for row in rows:
                for page, pmf in enumerate(row):
                    pmfs.append(_table(pmf, f"run_length[{kind!r}] of page {self.pages[page]!r}", (support[page],)))
        sizes = np.array([len(p) for p in pmfs], dtype=np.int64)
        self.length_offsets = np.r_[0, np.cumsum(sizes)[:-1]]
        self.length_sizes = sizes
        self.length_flat = np.concatenate([_inverse_cdf_table(p[None])[0] + t for t, p in enumerate(pmfs)])

    def _read_ids(self, profile):
        try:
            ids, users = profile["session_ids"], profile["user_ids"]
            self.first_session = int(ids["first"])
            self.span = float(ids["span"])
            self.start_quantiles = np.asarray(ids["start_quantiles"], dtype=float)
            self.log_gap_quantiles = np.asarray(ids["log_gap_quantiles"], dtype=float)
            self.first_user = int(users["first"])
            self.user_gap = float(users["mean_gap"])
            self.fitted_sessions = int(profile["fitted_on"]["sessions"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"profile: 'session_ids', 'user_ids' or 'fitted_on' is incomplete ({error!r})") from error
        for name, q in (("start_quantiles", self.start_quantiles), ("log_gap_quantiles", self.log_gap_quantiles)):
            if q.shape != _QUANTILE_LEVELS.shape or not np.isfinite(q).all() or (np.diff(q) < 0).any():
                raise ValueError(f"profile: session_ids[{name!r}] must be {len(_QUANTILE_LEVELS)} ascending numbers")
        if self.first_session < 1 or self.first_user < 1 or self.fitted_sessions < 1:
            raise ValueError("profile: ids and fitted_on.sessions must be at least 1")
        if not (self.span > 0 and self.user_gap >= 1):
            raise ValueError("profile: session_ids.span must be positive and user_ids.mean_gap at least 1")

    def draw_run_lengths(self, kind, bucket, page, rng):
        table = (kind * len(POSITION_BUCKETS) + bucket) * len(self.pages) + page
        keys = table + rng.random(len(table)) * _U_SCALE
        index = np.searchsorted(self.length_flat, keys, side="right") - self.length_offsets[table]
        return np.minimum(index, self.length_sizes[table] - 1) + 1


def _resolve_profile(profile):
    if profile is None:
        return _Model(load_profile())
    if isinstance(profile, (str, os.PathLike)):
        return _Model(load_profile(profile))
    return _Model(profile)


# --------------------------------------------------------------------------
# Generation


def _draw_users(model, n_sessions, rng):
    """Plans, classes and session counts of just enough users; the last user's count is trimmed."""
    batch = int(n_sessions / model.mean_sessions * 1.05) + 16
    plans, classes, counts, total = [], [], [], 0
    while total < n_sessions:
        plan = _draw_categorical(model.plan_table, np.zeros(batch, dtype=np.int64), rng)
        if model.n_classes > 1:
            klass = _draw_categorical(model.class_table, plan, rng)
        else:
            klass = np.zeros(batch, dtype=np.int64)
        count = _draw_categorical(model.sessions_table, plan * model.n_classes + klass, rng) + 1
        plans.append(plan)
        classes.append(klass)
        counts.append(count)
        total += int(count.sum())
    plan, klass, count = np.concatenate(plans), np.concatenate(classes), np.concatenate(counts)
    cumulative = np.cumsum(count)
    n_users = int(np.searchsorted(cumulative, n_sessions)) + 1
    count = count[:n_users].copy()
    count[-1] -= cumulative[n_users - 1] - n_sessions
    return plan[:n_users], klass[:n_users], count


def _length_class(pages_per_session):
    """Class of a session's number of pages, on which the chance that it is repeated depends."""
    return np.searchsorted(_REPEAT_LENGTH_EDGES, pages_per_session, side="left")


def _run_signature(run_page, run_length, run_offsets):
    """A 64-bit fingerprint of each session's runs: equal sessions have equal ones."""
    counts = np.diff(run_offsets)
    step = np.arange(len(run_page), dtype=np.uint64) - np.repeat(run_offsets[:-1], counts).astype(np.uint64)
    with np.errstate(over="ignore"):
        term = (run_page.astype(np.uint64) << np.uint64(32)) + run_length.astype(np.uint64) + np.uint64(1)
        term *= np.uint64(0x9E3779B97F4A7C15) ** (step + np.uint64(1))
    signature = np.zeros(len(counts), dtype=np.uint64)
    np.add.at(signature, np.repeat(np.arange(len(counts)), counts), term)
    return signature


def _draw_sessions(model, context, content, bucket, sessions_per_user, rng):
    """Every session, one session position at a time across users.

    At each position a session either repeats the user's previous session or is
    drawn afresh: its first page follows the previous session's, then its runs.
    A fresh session can come out equal to the previous one by chance; for the
    next session's repeat chance it counts as a repeat, as it does in the fit.

    Returns the runs of the fresh sessions in session order (as :func:`_draw_runs`)
    and, for every session, the session whose journey it shows (itself when fresh).
    """
    n, n_pages = len(context), len(model.pages)
    user_first = np.r_[0, np.cumsum(sessions_per_user)[:-1]]
    # Users sorted by decreasing history: those with a t-th session form a prefix.
    by_history = user_first[np.argsort(-sessions_per_user, kind="stable")]
    n_reaching = np.bincount(sessions_per_user)[::-1].cumsum()[::-1]
    source = np.arange(n, dtype=np.int64)
    repeated = np.zeros(n, dtype=np.int64)
    first_page = np.zeros(n, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    signature = np.zeros(n, dtype=np.uint64)
    drawn = []
    for t in range(int(sessions_per_user.max())):
        sessions = by_history[: n_reaching[t + 1]] + t
        if t:
            shown = source[sessions - 1]
            row = (context[sessions].astype(np.int64) * 2 + repeated[sessions - 1]) * _REPEAT_CLASSES
            repeat = _draw_categorical(model.repeat_table, row + _length_class(length[shown]), rng).astype(bool)
            source[sessions[repeat]] = shown[repeat]
            repeated[sessions] = repeat
            sessions, shown = sessions[~repeat], shown[~repeat]
            previous_page = first_page[shown]
        else:
            previous_page = np.full(len(sessions), n_pages, dtype=np.int64)
        row = content[sessions].astype(np.int64) * (n_pages + 1) + previous_page
        first_page[sessions] = _draw_categorical(model.first_table, row, rng)
        runs = _draw_runs(model, content[sessions], bucket[sessions], first_page[sessions], rng)
        length[sessions] = runs[3]
        signature[sessions] = _run_signature(*runs[:3])
        if t:
            repeated[sessions] = signature[sessions] == signature[shown]
        drawn.append((sessions, *runs))
    return _in_session_order(drawn, source == np.arange(n)), source


def _in_session_order(drawn, fresh):
    """The runs drawn position by position, put in session order."""
    runs_per_session = np.zeros(len(fresh), dtype=np.int64)
    for sessions, _, _, offsets, _ in drawn:
        runs_per_session[sessions] = np.diff(offsets)
    run_offsets = np.r_[0, np.cumsum(runs_per_session[fresh])]
    first_slot = np.zeros(len(fresh), dtype=np.int64)
    first_slot[fresh] = run_offsets[:-1]
    pages_per_session = np.zeros(len(fresh), dtype=np.int64)
    run_page = np.empty(run_offsets[-1], dtype=np.int16)
    run_length = np.empty(run_offsets[-1], dtype=np.int32)
    for sessions, page, length, offsets, pages in drawn:
        counts = np.diff(offsets)
        slot = np.repeat(first_slot[sessions] - offsets[:-1], counts) + np.arange(offsets[-1])
        run_page[slot] = page
        run_length[slot] = length
        pages_per_session[sessions] = pages
    return run_page, run_length, run_offsets, pages_per_session[fresh]


def _draw_runs(model, context, bucket, first_page, rng):
    """Every session's runs, one chain step at a time across all sessions.

    Returns the page and length of every run in session order, the offsets of
    each session's runs, and each session's number of pages.
    """
    n_pages = len(model.pages)
    end = n_pages
    n = len(context)
    active = np.arange(n)
    page = first_page
    pages_so_far = np.zeros(n, dtype=np.int64)
    steps = []
    for step in range(model.max_runs):
        if step == model.max_runs - 1:
            following = np.full(len(active), end)
        else:
            row = (context[active].astype(np.int64) * _STEP_CLASSES + min(step, _STEP_CLASSES - 1)) * n_pages + page
            following = _draw_categorical(model.next_table, row, rng)
        is_last = following == end
        kind = np.where(is_last, 1 + pages_so_far % 2, 0)
        length = model.draw_run_lengths(kind, bucket[active].astype(np.int64), page, rng)
        steps.append((active, page.astype(np.int16), length.astype(np.int32)))
        pages_so_far += length
        keep = ~is_last
        active, page, pages_so_far = active[keep], following[keep], pages_so_far[keep]
        if not len(active):
            break

    runs_per_session = np.zeros(n, dtype=np.int64)
    pages_per_session = np.zeros(n, dtype=np.int64)
    for sessions, _, length in steps:
        runs_per_session[sessions] += 1
        pages_per_session[sessions] += length
    run_offsets = np.r_[0, np.cumsum(runs_per_session)]
    run_page = np.empty(run_offsets[-1], dtype=np.int16)
    run_length = np.empty(run_offsets[-1], dtype=np.int32)
    for step, (sessions, page, length) in enumerate(steps):
        slot = run_offsets[sessions] + step
        run_page[slot] = page
        run_length[slot] = length
    return run_page, run_length, run_offsets, pages_per_session


def _journey_strings(pages, run_page, run_length, run_offsets, pages_per_session):
    """Journey strings written in bulk straight into Arrow buffers, block by block."""
    # Token v is page v opening a journey; token n_pages + v is "-" and page v.
    encoded = [p.encode("utf-8") for p in pages]
    tokens = encoded + [SEPARATOR.encode("utf-8") + p for p in encoded]
    token_bytes = np.frombuffer(b"".join(tokens), dtype=np.uint8)
    token_length = np.array([len(t) for t in tokens], dtype=np.int64)
    token_offset = np.r_[0, np.cumsum(token_length)[:-1]]
    n_pages = len(pages)
    n = len(pages_per_session)

    chunks = []
    for start in range(0, n, _STRING_BLOCK):
        stop = min(start + _STRING_BLOCK, n)
        first_run, end_run = run_offsets[start], run_offsets[stop]
        code = np.repeat(run_page[first_run:end_run], run_length[first_run:end_run]).astype(np.int64)
        page_offsets = np.r_[0, np.cumsum(pages_per_session[start:stop])]
        token = code + n_pages
        token[page_offsets[:-1]] -= n_pages
        del code
        length = token_length[token]
        byte_end = np.cumsum(length)
        # A block holds well under 2**31 bytes, so int32 indices halve the temporaries.
        source = np.repeat((token_offset[token] - (byte_end - length)).astype(np.int32), length)
        source += np.arange(len(source), dtype=np.int32)
        data = token_bytes[source]
        del source, token, length
        string_offsets = np.r_[0, byte_end[page_offsets[1:] - 1]]
        kind, offset_type = (pa.string(), np.int32) if string_offsets[-1] < 2**31 else (pa.large_string(), np.int64)
        chunks.append(
            pa.Array.from_buffers(
                kind, stop - start, [None, pa.py_buffer(string_offsets.astype(offset_type)), pa.py_buffer(data)]
            )
        )
    if any(chunk.type != pa.string() for chunk in chunks):
        chunks = [chunk.cast(pa.large_string()) for chunk in chunks]
    return pa.chunked_array(chunks)


def _draw_session_ids(model, sessions_per_user, rng):
    """Place every session on one timeline, then number all sessions in time order."""
    n = int(sessions_per_user.sum())
    user_first = np.r_[0, np.cumsum(sessions_per_user)[:-1]]
    gap = np.exp(np.interp(rng.random(n), _QUANTILE_LEVELS, model.log_gap_quantiles))
    gap[user_first] = 0.0
    # A history longer than the observed period is compressed to fit in it, as the
    # reference window does to its most active users.
    history = np.add.reduceat(gap, user_first)
    squeeze = np.maximum(history, 1.0)
    gap /= np.repeat(squeeze, sessions_per_user)
    history /= squeeze
    # Sorted draws make user ids (issued in generation order) follow first sessions, loosely.
    start = np.interp(np.sort(rng.random(len(sessions_per_user))), _QUANTILE_LEVELS, model.start_quantiles)
    start *= 1.0 - history
    elapsed = np.cumsum(gap)
    time = elapsed - np.repeat(elapsed[user_first] - start, sessions_per_user)
    del gap, elapsed
    # More sessions means more traffic over the same period: the counter stretches.
    scale = model.span * n / model.fitted_sessions
    order = np.argsort(time, kind="stable")
    counter = np.floor(time[order] * scale).astype(np.int64)
    del time
    # Sessions falling on the same tick get consecutive numbers: unique ids, still in time order.
    steps = np.arange(n, dtype=np.int64)
    counter = np.maximum.accumulate(counter - steps) + steps
    ids = np.empty(n, dtype=np.int64)
    ids[order] = counter - counter[0] + model.first_session
    return ids


def _draw_user_ids(model, n_users, rng):
    gap = rng.geometric(1.0 / model.user_gap, size=n_users).astype(np.int64)
    return model.first_user + np.cumsum(gap) - gap[0]


def generate_sessions(n_sessions=10_000, *, seed=0, profile=None):
    """Draw a synthetic table of sessions.

    Parameters
    ----------
    n_sessions : int, default 10_000
        Exact number of rows. Users are drawn until there are enough sessions;
        the last user keeps only the sessions that fit.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`: the same seed and profile give
        the same table.
    profile : dict or path-like, optional
        A profile from :func:`fit_profile`, or the path of one saved with
        :func:`save_profile`. ``None`` uses the bundled profile, fitted on the
        reference export.

    Returns
    -------
    DataFrame
        ``user_id`` and ``session_id`` (int64), ``subscription_type`` and
        ``user_journey`` (str): one row per session, sorted by user then
        session. Session ids are unique and grow with time across users.

    Raises
    ------
    TypeError
        If ``n_sessions`` is not an integer.
    ValueError
        If ``n_sessions`` is not positive, ``seed`` is not a non-negative
        integer, or the profile is malformed.

    Examples
    --------
    >>> from journey_utils.synthetic import generate_sessions
    >>> sessions = generate_sessions(1_000, seed=7)
    >>> sessions.shape
    (1000, 4)
    >>> list(sessions.columns)
    ['user_id', 'session_id', 'subscription_type', 'user_journey']
    >>> sessions.equals(generate_sessions(1_000, seed=7))
    True
    """
    n_sessions = _check_count(n_sessions, "n_sessions")
    seed = _check_seed(seed)
    model = _resolve_profile(profile)
    rng = np.random.default_rng(seed)

    user_plan, user_class, sessions_per_user = _draw_users(model, n_sessions, rng)
    session_plan = np.repeat(user_plan, sessions_per_user).astype(np.int32)
    history = np.repeat(sessions_per_user, sessions_per_user)
    position = np.arange(n_sessions) - np.repeat(np.r_[0, np.cumsum(sessions_per_user)[:-1]], sessions_per_user)
    bucket = _position_buckets(position, history)
    del history, position
    context = (session_plan * len(POSITION_BUCKETS) + bucket).astype(np.int32)
    # Pages follow the chain of the user's plan and class; copies depend on the plan only.
    session_class = np.repeat(user_class, sessions_per_user)
    content = ((session_plan * model.n_classes + session_class) * len(POSITION_BUCKETS) + bucket).astype(np.int32)
    del session_class

    runs, source = _draw_sessions(model, context, content, bucket, sessions_per_user, rng)
    del context, content, bucket
    journeys = _journey_strings(model.pages, *runs)
    del runs
    # A repeat shows the journey of the latest fresh session before it, its own user's.
    fresh_before = np.cumsum(source == np.arange(n_sessions)) - 1
    journeys = journeys.take(fresh_before[source])
    del source, fresh_before

    session_ids = _draw_session_ids(model, sessions_per_user, rng)
    user_ids = np.repeat(_draw_user_ids(model, len(sessions_per_user), rng), sessions_per_user)
    plan_names = pa.array(model.plans, type=pa.string()).take(pa.array(session_plan))
    del session_plan
    return pd.DataFrame(
        {
            USER: user_ids,
            SESSION: session_ids,
            PLAN: pd.Series(plan_names, dtype="str"),
            TARGET: pd.Series(journeys, dtype="str"),
        }
    )


# --------------------------------------------------------------------------
# Command line


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m journey_utils.synthetic",
        description=(
            "Write synthetic customer-journey sessions as CSV (a .csv.gz path is compressed), "
            "or, with --fit, fit a profile on a sessions CSV and write it as JSON."
        ),
    )
    parser.add_argument("--sessions", type=int, default=10_000, help="number of sessions (default: 10000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--profile", help="profile JSON to draw from (default: the bundled profile)")
    parser.add_argument("--fit", metavar="CSV", help="fit a profile on this sessions CSV instead of generating")
    parser.add_argument("--classes", type=int, default=_USER_CLASSES,
                        help=f"with --fit, the number of user classes (default: {_USER_CLASSES})")
    parser.add_argument("--output", required=True, help="CSV file to write, or the profile JSON with --fit")
    return parser


def main(argv=None):
    """Run the command line and return its exit status.

    Examples
    --------
    ``python -m journey_utils.synthetic --sessions 9935 --seed 0 --output sample.csv``

    ``python -m journey_utils.synthetic --fit my_export.csv --output my_profile.json``
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.fit is not None and args.profile is not None:
        parser.error("--profile cannot be combined with --fit")
    if args.fit is None and args.classes != _USER_CLASSES:
        parser.error("--classes applies to --fit only")
    try:
        if args.fit is not None:
            try:
                data = pd.read_csv(args.fit)
            except (OSError, ValueError) as error:
                raise ValueError(f"cannot read {args.fit!r}: {error}") from error
            save_profile(fit_profile(data, user_classes=args.classes), args.output)
            return 0
        sessions = generate_sessions(args.sessions, seed=args.seed, profile=args.profile)
    except ValueError as error:
        parser.error(str(error))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    sessions.to_csv(output, index=False)
    return 0

