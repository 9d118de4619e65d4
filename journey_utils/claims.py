"""Claims about plans tested against the data, and findings written from the numbers.

A claim is a direction ("Annual buyers reach Pricing *earlier*") that the data
can support, contradict, or leave open. :func:`evaluate_claim` turns an effect,
its interval and its adjusted p-value into a verdict; the claim classes measure
the effect on journeys or sessions; :func:`evaluate_claims` runs claims over
several session scopes, adjusts their p-values together and writes one
sentence per result. :func:`finding_sentences` writes the sentences of
:func:`journey_utils.compare.top_differences`. No sentence holds a number that
is not formatted from the data.

Verdicts
--------
With the effect signed so that positive is the claimed direction:

``supported``
    The adjusted p-value is at most ``alpha`` and the effect goes the claimed way.
``not supported``
    Either the adjusted p-value is at most ``alpha`` and the effect goes the
    other way, or the result is not significant and the whole interval lies
    below ``margin`` in the claimed direction: the data rule out an effect as
    large as the smallest one worth acting on.
``inconclusive``
    Otherwise: not significant, yet the interval still reaches ``margin`` in
    the claimed direction (typically too few buyers). Also the verdict when the
    claim cannot be measured at all (a plan or page missing from the data).

In :func:`evaluate_claims` the intervals are simultaneous: each of the ``m``
results gets a ``1 - (1 - confidence) / m`` interval (Bonferroni), so all of
them hold together with probability ``confidence``. A verdict of "not
supported" because an interval rules out the margin then accounts for the
other claims tested with it, as the adjusted p-values do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from journey_utils import _codes, text
from journey_utils._checks import check_frame, check_positive_int, check_unit_interval
from journey_utils.columns import PLAN, SESSION, TARGET, USER
from journey_utils.compare import MIN_N, N_RESAMPLES, position_contrasts
from journey_utils.inference import adjust_pvalues, defined_mean, independence_test, newcombe_interval
from journey_utils.preprocess import min_window_sessions
from journey_utils.users import is_user_table, trimmed_journeys, user_table, window_column, window_journeys

__all__ = [
    "VERDICTS",
    "Verdict",
    "evaluate_claim",
    "PresenceClaim",
    "PositionClaim",
    "SessionShiftClaim",
    "DEFAULT_CLAIMS",
    "evaluate_claims",
    "simultaneous_level",
    "claim_sentence",
    "finding_sentence",
    "finding_sentences",
    "findings_text",
]

VERDICTS = ("supported", "not supported", "inconclusive")
DIRECTIONS = ("greater", "less")


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def _level(confidence) -> str:
    """A confidence level as a percentage: ``95%``, or ``97.5%`` when it has a fraction."""
    return text.percent(confidence, 0 if round(100 * confidence, 6).is_integer() else 1)


# ---------------------------------------------------------------------------
# Verdict logic
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The outcome of testing one claim.

    Attributes
    ----------
    verdict : str
        'supported', 'not supported' or 'inconclusive' (see the module notes).
    reason : str
        Why, in words: 'significant in the claimed direction', 'significant in the
        opposite direction', 'interval rules out the margin', 'interval includes
        the margin', or why the claim could not be measured.
    effect, ci_low, ci_high : float
        The effect and its interval, on the scale given.
    p_adjusted : float
        The adjusted p-value used.
    direction : str
        'greater' or 'less': the claimed sign of ``effect - null``.
    null, margin, alpha : float
        No-effect value, smallest effect worth acting on, significance level.
    """

    verdict: str
    reason: str
    effect: float
    ci_low: float
    ci_high: float
    p_adjusted: float
    direction: str
    null: float
    margin: float
    alpha: float


def evaluate_claim(effect, ci_low, ci_high, p_adjusted, *, direction="greater", null=0.0, margin=0.0,
                   alpha=0.05) -> Verdict:
    """Decide whether the data support a directional claim.

    Parameters
    ----------
    effect : float
        Estimated effect (e.g. a difference in shares).
    ci_low, ci_high : float
        Its confidence interval.
    p_adjusted : float
        Two-sided p-value, adjusted for the other claims tested with it.
    direction : {'greater', 'less'}, default 'greater'
        The claim: ``effect > null`` or ``effect < null``.
    null : float, default 0.0
        The value meaning "no effect" (0 for differences, 0.5 for proportions of
        pairs or users).
    margin : float, default 0.0
        The smallest effect, measured from ``null`` in the claimed direction,
        worth acting on. With 0, "not supported" needs a significant effect the
        other way or an interval entirely the other way.
    alpha : float, default 0.05
        Significance level for the adjusted p-value.

    Returns
    -------
    Verdict
        See the module notes for the exact rules.

    Examples
    --------
    >>> from journey_utils.claims import evaluate_claim
    >>> evaluate_claim(0.12, 0.08, 0.16, 0.0001).verdict
    'supported'
    >>> evaluate_claim(-0.12, -0.16, -0.08, 0.0001).verdict
    'not supported'
    >>> evaluate_claim(0.01, -0.01, 0.03, 0.4, margin=0.05).verdict
    'not supported'
    >>> evaluate_claim(0.05, -0.05, 0.15, 0.4, margin=0.05).verdict
    'inconclusive'
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"evaluate_claim: direction must be 'greater' or 'less'; found {direction!r}")
    alpha = check_unit_interval(alpha, "alpha", "evaluate_claim")
    if margin < 0:
        raise ValueError(
            f"evaluate_claim: margin is measured in the claimed direction and must be >= 0; found {margin!r}"
        )
    values = [float(v) for v in (effect, ci_low, ci_high, p_adjusted)]
    common = dict(direction=direction, null=float(null), margin=float(margin), alpha=float(alpha))
    if not all(math.isfinite(v) for v in values):
        return Verdict("inconclusive", "not measurable on this data", *values, **common)
    effect, ci_low, ci_high, p_adjusted = values
    sign = 1.0 if direction == "greater" else -1.0
    toward = sign * (effect - null)
    reach = max(sign * (ci_low - null), sign * (ci_high - null))
    if p_adjusted <= alpha and toward > 0:
        verdict, reason = "supported", "significant in the claimed direction"
    elif p_adjusted <= alpha:
        verdict, reason = "not supported", "significant in the opposite direction"
    elif reach < margin or (margin == 0 and reach <= 0):
        verdict, reason = "not supported", "interval rules out the margin"
    else:
        verdict, reason = "inconclusive", "interval includes the margin"
    return Verdict(verdict, reason, effect, ci_low, ci_high, p_adjusted, **common)


# ---------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------

_MEASUREMENT = [
    "kind", "effect_measure", "effect", "ci_low", "ci_high", "null", "margin", "direction", "value_measure",
    "label_a", "value_a", "label_b", "value_b", "count_a", "n_a", "count_b", "n_b", "unit", "denominator",
    "test", "p_value", "small_sample", "problem",
]


def _unmeasured(claim, problem, **known) -> dict:
    out = dict.fromkeys(_MEASUREMENT, np.nan)
    out.update(kind=claim.kind, direction=claim.direction, margin=claim.margin, null=claim.null,
               small_sample=True, problem=problem, test="", unit="", denominator="", effect_measure="",
               value_measure="", label_a="", label_b="")
    out.update(known)
    return out


def _missing_plans(data, plans, plan_column) -> list[str]:
    present = set(data[plan_column].unique().tolist()) if plan_column in data.columns else set()
    return [p for p in plans if p not in present]


@dataclass(frozen=True)
class PresenceClaim:
    """"A page is in a larger share of ``plan``'s journeys than of ``other``'s."

    The effect is the difference in share (``plan`` minus ``other``, Newcombe
    interval); the test is the 2x2 chi-square or Fisher exact test.

    Parameters
    ----------
    statement : str
        The claim as shown to readers.
    page, plan, other : str
        The page and the two plans.
    direction : {'greater', 'less'}, default 'greater'
        'greater': the page is more common in ``plan``.
    margin : float, default 0.05
        Smallest difference worth acting on (5 percentage points).
    """

    statement: str
    page: str
    plan: str
    other: str
    direction: str = "greater"
    margin: float = 0.05
    kind = "presence"
    null = 0.0
    sessions = "journeys"

    def measure(self, journeys, *, confidence=0.95, min_n=MIN_N, target_column=TARGET, plan_column=PLAN,
                **_) -> dict:
        """The effect on one user's journeys per row (see the class notes)."""
        missing = _missing_plans(journeys, [self.plan, self.other], plan_column)
        if missing:
            return _unmeasured(self, f"no {' or '.join(missing)} buyers in the data")
        plans = journeys[plan_column].to_numpy(dtype=object)
        kept = (plans == self.plan) | (plans == self.other)
        group = (plans[kept] == self.other).astype(np.int64)
        coded = _codes.encode(journeys.loc[kept, target_column])
        codes, counts = _codes.journeys_with_page(coded, group, 2)
        code = coded.code_of(self.page)
        a, b = (int(c) for c in counts[codes == code].sum(axis=0)) if code is not None else (0, 0)
        n_a, n_b = (int(c) for c in np.bincount(group, minlength=2))
        test = independence_test([[a, n_a - a], [b, n_b - b]])
        low, high = newcombe_interval(a, n_a, b, n_b, confidence)
        return {
            "kind": self.kind, "effect_measure": "difference in share (percentage points)",
            "effect": a / n_a - b / n_b, "ci_low": float(low), "ci_high": float(high), "null": self.null,
            "margin": self.margin, "direction": self.direction,
            "value_measure": f"share of journeys with {self.page}",
            "label_a": self.plan, "value_a": a / n_a, "label_b": self.other, "value_b": b / n_b,
            "count_a": a, "n_a": n_a, "count_b": b, "n_b": n_b, "unit": "journeys",
            "denominator": "journeys of the plan", "test": test.test, "p_value": test.p_value,
            "small_sample": min(n_a, n_b) < min_n or not (test.min_expected >= 5), "problem": "",
        }


@dataclass(frozen=True)
class PositionClaim:
    """"``plan``'s journeys reach a page earlier (or later) than ``other``'s."

    Among journeys that reach the page, compares where they first reach it
    (:func:`journey_utils.compare.position_contrasts`). The effect is
    ``P(plan later) - P(plan earlier)`` for a random pair of journeys, with a
    bootstrap interval; the test is Mann–Whitney U.

    Parameters
    ----------
    statement : str
        The claim as shown to readers.
    page, plan, other : str
        The page and the two plans.
    direction : {'less', 'greater'}, default 'less'
        'less': ``plan`` reaches the page earlier.
    measure : {'position', 'step'}, default 'position'
        Relative position in the journey (0 first, 1 last) or step number.
    margin : float, default 0.1
        Smallest effect worth acting on: 0.1 means one plan is earlier in 55% of pairs.
    """

    statement: str
    page: str
    plan: str
    other: str
    direction: str = "less"
    measure_by: str = "position"
    margin: float = 0.1
    kind = "position"
    null = 0.0
    sessions = "journeys"

    def measure(self, journeys, *, confidence=0.95, min_n=MIN_N, n_resamples=N_RESAMPLES, seed=0,
                target_column=TARGET, plan_column=PLAN, **_) -> dict:
        """The effect on one user's journeys per row (see the class notes)."""
        missing = _missing_plans(journeys, [self.plan, self.other], plan_column)
        if missing:
            return _unmeasured(self, f"no {' or '.join(missing)} buyers in the data")
        row = position_contrasts(journeys, self.page, [self.plan, self.other], measure=self.measure_by,
                                 confidence=confidence, min_n=min_n, n_resamples=n_resamples, seed=seed,
                                 target_column=target_column, plan_column=plan_column,
                                 min_journeys=1).iloc[0]  # a planned test: no page is too rare for it
        counts = dict(count_a=int(row["count_a"]), n_a=int(row["n_a"]), count_b=int(row["count_b"]),
                      n_b=int(row["n_b"]))
        if not np.isfinite(row["p_value"]):
            return _unmeasured(self, f"fewer than 2 journeys of a plan reach {self.page}", **counts)
        what = "position (0 = first page, 1 = last)" if self.measure_by == "position" else "step (1 = first page)"
        return {
            "kind": self.kind, "effect_measure": "P(later) - P(earlier)", "effect": float(row["effect"]),
            "ci_low": float(row["effect_low"]), "ci_high": float(row["effect_high"]), "null": self.null,
            "margin": self.margin, "direction": self.direction, "value_measure": f"median {what}",
            "label_a": self.plan, "value_a": float(row["median_a"]), "label_b": self.other,
            "value_b": float(row["median_b"]), **counts, "unit": "journeys",
            "denominator": f"journeys that reach {self.page}", "test": row["test"],
            "p_value": float(row["p_value"]), "small_sample": bool(row["small_sample"]), "problem": "",
        }


@dataclass(frozen=True)
class SessionShiftClaim:
    """"Later sessions hold a larger share of ``pages`` than a user's first sessions."

    Paired by user: for each user, the share of page visits that are one of
    ``pages`` in the first ``n`` sessions against the later window. The effect is
    the proportion of users whose share rose, among users whose share changed
    (0.5 = no shift; Wilson interval); the test is the two-sided sign test
    (exact binomial). Users whose windows are empty after page removal are left
    out.

    Parameters
    ----------
    statement : str
        The claim as shown to readers.
    pages : tuple of str, default ('Log in', 'Checkout')
        The pages whose share is compared.
    plan : str, optional
        Only this plan's buyers; default every buyer.
    direction : {'greater', 'less'}, default 'greater'
        'greater': the share is larger in later sessions.
    margin : float, default 0.05
        Smallest shift worth acting on: 0.05 means 55% of users shift the claimed way.
    """

    statement: str
    pages: tuple = ("Log in", "Checkout")
    plan: str | None = None
    direction: str = "greater"
    margin: float = 0.05
    kind = "session shift"
    null = 0.5
    sessions = "windows"

    def measure(self, sessions_data, *, n=3, later="last", confidence=0.95, min_n=MIN_N, pages_to_remove=(),
                target_column=TARGET, plan_column=PLAN, **columns) -> dict:
        """The effect on raw sessions (see the class notes)."""
        if self.plan is not None:
            missing = _missing_plans(sessions_data, [self.plan], plan_column)
            if missing:
                return _unmeasured(self, f"no {self.plan} buyers in the data")
            sessions_data = sessions_data[sessions_data[plan_column] == self.plan]
        windows = window_journeys(sessions_data, n, later=later, pages_to_remove=pages_to_remove,
                                  target_column=target_column, plan_column=plan_column, **columns)
        early, late = _share_of(windows["first"], self.pages), _share_of(windows["last"], self.pages)
        keep = ~(np.isnan(early) | np.isnan(late))
        early, late = early[keep], late[keep]
        up, down = int(np.sum(late > early)), int(np.sum(late < early))
        later_words = f"last {n} sessions" if later == "last" else f"sessions after the first {n}"
        base = dict(value_measure=f"mean share of page visits that are {' or '.join(self.pages)}",
                    label_a=f"first {n} sessions", label_b=later_words,
                    value_a=defined_mean(early), value_b=defined_mean(late),
                    count_a=up, n_a=int(keep.sum()), count_b=down, n_b=int(keep.sum()), unit="users",
                    denominator=f"users with at least {min_window_sessions(n, later)} sessions",
                    effect_measure="share of changed users whose share rose", test="sign test")
        if up + down == 0:
            return _unmeasured(self, "no user's share changed between the windows", **base)
        result = stats.binomtest(up, up + down, 0.5)
        interval = result.proportion_ci(confidence_level=confidence, method="wilson")
        return {
            "kind": self.kind, "effect": up / (up + down), "ci_low": float(interval.low),
            "ci_high": float(interval.high), "null": self.null, "margin": self.margin, "direction": self.direction,
            **base, "p_value": float(result.pvalue), "small_sample": int(keep.sum()) < min_n, "problem": "",
        }


def _share_of(journeys: pd.Series, pages) -> np.ndarray:
    """Per journey, the share of its page visits that are one of ``pages`` (NaN if empty)."""
    coded = _codes.encode(journeys)
    hits = _codes.visits_to(coded, pages)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(coded.lengths > 0, hits / coded.lengths, np.nan)


#: The four claims of the plan-comparison report.
DEFAULT_CLAIMS = (
    PresenceClaim("Resources center presence is higher among Annual buyers than among Monthly buyers.",
                  page="Resources center", plan="Annual", other="Monthly"),
    PositionClaim("Annual buyers reach Pricing earlier in their journey than Monthly buyers.",
                  page="Pricing", plan="Annual", other="Monthly"),
    PresenceClaim("Monthly buyers visit Career tracks more often than Annual buyers.",
                  page="Career tracks", plan="Monthly", other="Annual"),
    SessionShiftClaim("A user's early sessions differ from the later ones, which are dominated by log-ins "
                      "and checkouts.", pages=("Log in", "Checkout")),
)

CLAIM_COLUMNS = [
    "claim", "statement", "scope", "verdict", "reason", "sentence", "kind", "effect_measure", "effect", "ci_low",
    "ci_high", "null", "margin", "direction", "value_measure", "label_a", "value_a", "label_b", "value_b",
    "count_a", "n_a", "count_b", "n_b", "unit", "denominator", "test", "p_value", "p_adjusted", "alpha",
    "confidence", "ci_level", "small_sample", "problem",
]


def simultaneous_level(confidence, n_results):
    """Level of each of ``n_results`` intervals that hold together with probability ``confidence``.

    Bonferroni: ``1 - (1 - confidence) / n_results``.

    Examples
    --------
    >>> from journey_utils.claims import simultaneous_level
    >>> round(simultaneous_level(0.95, 8), 5)
    0.99375
    """
    return 1 - (1 - confidence) / max(int(n_results), 1)


def evaluate_claims(sessions_data, claims=DEFAULT_CLAIMS, *, n=3, alpha=0.05, confidence=0.95, pages_to_remove=(),
                    min_n=MIN_N, n_resamples=N_RESAMPLES, seed=0, target_column=TARGET, plan_column=PLAN,
                    group_column=USER, order_column=SESSION) -> pd.DataFrame:
    """Test each claim on all sessions and on early sessions, with a verdict in words.

    Journey claims (:class:`PresenceClaim`, :class:`PositionClaim`) are measured
    on each user's journey over all sessions, then over the first ``n``
    sessions only. Session-shift claims compare the first ``n`` sessions with
    all later sessions, then with the last ``n`` sessions. The p-values of every
    row are adjusted together (Benjamini–Hochberg over claims x scopes) and the
    intervals are simultaneous over the rows (see :func:`simultaneous_level`)
    before :func:`evaluate_claim` gives each row its verdict.

    Parameters
    ----------
    sessions_data : DataFrame
        Sessions, one per row (as returned by :func:`journey_utils.load_sessions`),
        or their user table (:func:`journey_utils.user_table`) holding the windows of ``n``.
    claims : sequence of claims, default DEFAULT_CLAIMS
        The claims (the report's four by default).
    n : int, default 3
        Sessions in the early window.
    alpha : float, default 0.05
        Significance level of the adjusted p-values.
    confidence : float, default 0.95
        Joint coverage of all the rows' intervals; each row's own level is in
        ``ci_level``.
    pages_to_remove : str or list of str, default ()
        Pages removed before measuring (as in :func:`journey_utils.preprocess`).
    min_n : int, default 30
        Fewer journeys or users than this flags ``small_sample``.
    n_resamples, seed : int
        Bootstrap draws (position claims) and their seed.
    target_column, plan_column, group_column, order_column : str
        Column names.

    Returns
    -------
    DataFrame
        One row per (claim, scope): ``claim`` (1-based number), ``statement``,
        ``scope``, ``verdict``, ``reason``, ``sentence`` (the verdict in words
        with its numbers), then the numbers: ``kind``, ``effect_measure``,
        ``effect``, ``ci_low``, ``ci_high``, ``null``, ``margin``, ``direction``,
        ``value_measure``, ``label_a``, ``value_a``, ``label_b``, ``value_b``,
        ``count_a``, ``n_a``, ``count_b``, ``n_b``, ``unit``, ``denominator``,
        ``test``, ``p_value``, ``p_adjusted``, ``alpha``, ``confidence``,
        ``ci_level``, ``small_sample`` and ``problem`` (why a claim could not be measured).

    Examples
    --------
    >>> import journey_utils as ju
    >>> from journey_utils.claims import evaluate_claims
    >>> sessions = ju.load_sessions(ju.SAMPLE_PATH)  # doctest: +SKIP
    >>> evaluate_claims(sessions)[["claim", "scope", "verdict"]]  # doctest: +SKIP
    """
    function = "evaluate_claims"
    n = check_positive_int(n, "n", function)
    check_frame(sessions_data, function, [group_column, order_column, target_column, plan_column])
    columns = dict(group_column=group_column, order_column=order_column, target_column=target_column,
                   plan_column=plan_column)
    # Every scope is read from the user table (made here from sessions), the reports' one source.
    table = sessions_data if is_user_table(sessions_data) else user_table(sessions_data, windows=[n], **columns)
    # Each claim gives two rows (two scopes or two windows).
    ci_level = simultaneous_level(confidence, 2 * len(claims))
    options = dict(confidence=ci_level, min_n=min_n, target_column=target_column, plan_column=plan_column)
    scoped = {}
    if any(claim.sessions == "journeys" for claim in claims):
        for scope, column in (("all sessions", "journey_all"), (f"first {n} sessions", window_column("first", n))):
            scoped[scope] = _scope_journeys(table, column, pages_to_remove, group_column, plan_column, target_column)
    rows = []
    for number, claim in enumerate(claims, start=1):
        if claim.sessions == "journeys":
            for scope, journeys in scoped.items():
                result = claim.measure(journeys, n_resamples=n_resamples, seed=seed, **options)
                rows.append({"claim": number, "statement": claim.statement, "scope": scope, **result})
        else:
            windows = (("rest", f"first {n} vs all later sessions"), ("last", f"first {n} vs last {n} sessions"))
            for later, scope in windows:
                result = claim.measure(table, n=n, later=later, pages_to_remove=pages_to_remove,
                                       group_column=group_column, order_column=order_column, **options)
                rows.append({"claim": number, "statement": claim.statement, "scope": scope, **result})
    table = pd.DataFrame(rows)
    table["p_adjusted"] = adjust_pvalues(table["p_value"].astype(float))
    table["alpha"] = float(alpha)
    table["confidence"] = float(confidence)
    table["ci_level"] = float(ci_level)
    verdicts = [
        evaluate_claim(row.effect, row.ci_low, row.ci_high, row.p_adjusted, direction=row.direction,
                       null=row.null, margin=row.margin, alpha=alpha)
        for row in table.itertuples()
    ]
    table["verdict"] = [v.verdict for v in verdicts]
    table["reason"] = [v.reason if not row.problem else f"not measurable: {row.problem}"
                       for v, row in zip(verdicts, table.itertuples())]
    table["sentence"] = [claim_sentence(row) for _, row in table.iterrows()]
    table = table[CLAIM_COLUMNS]
    text_columns = ["statement", "scope", "verdict", "reason", "sentence", "kind", "effect_measure", "direction",
            "value_measure", "label_a", "label_b", "unit", "denominator", "test", "problem"]
    return table.astype({c: "str" for c in text_columns} | {"small_sample": bool})


def _scope_journeys(table, column, pages_to_remove, group_column, plan_column, target_column) -> pd.DataFrame:
    """One scope's journeys from a user table: the journeys of ``column``, with ``pages_to_remove`` removed."""
    if column not in table.columns:
        raise ValueError(f"evaluate_claims: the user table has no {column} column; make it with the claims' n "
                         "in user_table(..., windows=[n])")
    journeys = table[column]
    if pages_to_remove:
        journeys = trimmed_journeys(journeys, pages_to_remove)
    return pd.DataFrame({group_column: table[group_column].to_numpy(), plan_column: table[plan_column].array,
                         target_column: journeys.array})


# ---------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------


def _interval(low, high, formatter, confidence, unit="", kind="CI") -> str:
    return f"{_level(confidence)} {kind} {formatter(low)}{unit} to {formatter(high)}{unit}"


def _of(count, total, word="of") -> str:
    """``557 of 931``: a count out of its total, both formatted."""
    return f"{text.integer(count)} {word} {text.integer(total)}"


def _step(value) -> str:
    """A median step: whole (``3``) or with one decimal (``2.5``)."""
    return text.integer(value) if float(value).is_integer() else text.decimal(value)


def _verdict_opening(row) -> str:
    return f"{row['verdict'].capitalize()} ({row['scope']})."


def _reason_sentence(row, margin_text) -> str:
    reason = row["reason"]
    if reason.startswith("not measurable"):
        return f"It cannot be tested on this data: {row['problem']}."
    if reason == "significant in the claimed direction":
        return "The difference is statistically significant and goes the way the claim says."
    if reason == "significant in the opposite direction":
        return "The difference is statistically significant but goes the other way."
    if reason == "interval rules out the margin":
        return f"The interval rules out {margin_text} in the claimed direction."
    return f"Not significant, and the interval still allows {margin_text}: more data are needed to decide."


def _caution(row, who) -> str:
    return f" Caution: small sample ({who}); read as indicative." if row["small_sample"] else ""


def claim_sentence(row) -> str:
    """The verdict of one :func:`evaluate_claims` row in words, every number from the row.

    Parameters
    ----------
    row : Mapping
        A row of :func:`evaluate_claims` (its columns before ``sentence``).

    Returns
    -------
    str
    """
    confidence = row["confidence"]
    kind = "simultaneous CI" if row.get("ci_level", confidence) != confidence else "CI"

    def interval(low, high, formatter):
        return _interval(low, high, formatter, confidence, kind=kind)

    p_text = f"{row['test']}, adjusted {text.p_value(row['p_adjusted'])}"
    if row["problem"]:
        return f"{_verdict_opening(row)} {_reason_sentence(row, '')}"
    a, b = row["label_a"], row["label_b"]
    if row["kind"] == "presence":
        page = row["value_measure"].removeprefix("share of journeys with ")
        claimed = row["margin"] if row["direction"] == "greater" else -row["margin"]
        margin_text = f"a difference as large as {text.points(claimed)}"
        body = (
            f"{page} is in {text.percent(row['value_a'])} of {a} journeys ({_of(row['count_a'], row['n_a'])}) "
            f"and {text.percent(row['value_b'])} of {b} journeys ({_of(row['count_b'], row['n_b'])}): a difference "
            f"of {text.points(row['effect'])} "
            f"({interval(row['ci_low'], row['ci_high'], text.points)}; {p_text})."
        )
        who = f"{text.integer(min(row['n_a'], row['n_b']))} journeys in the smaller plan"
    elif row["kind"] == "position":
        page = row["denominator"].removeprefix("journeys that reach ")
        earlier = row["direction"] == "less"
        word = "earlier" if earlier else "later"
        # effect = P(a later) - P(a earlier); the share of pairs where a is `word` (ties halved):
        share = (1 - row["effect"]) / 2 if earlier else (1 + row["effect"]) / 2
        ends = sorted(((1 - row["ci_high"]) / 2, (1 - row["ci_low"]) / 2) if earlier
                      else ((1 + row["ci_low"]) / 2, (1 + row["ci_high"]) / 2))
        measure = row["value_measure"].removeprefix("median ")
        if measure.startswith("position"):
            where = (f"at a median of {text.percent(row['value_a'])} of the way through {a} journeys and "
                     f"{text.percent(row['value_b'])} through {b} journeys")
        else:
            where = (f"at median step {_step(row['value_a'])} of {a} journeys and step {_step(row['value_b'])} "
                     f"of {b} journeys")
        margin_text = (f"a lead in {text.percent(0.5 + row['margin'] / 2)} of pairs or more "
                       f"(the smallest difference worth acting on)")
        body = (
            f"{page} is first reached {where} ({_of(row['count_a'], row['n_a'])} {a} and "
            f"{_of(row['count_b'], row['n_b'])} {b} journeys reach it). "
            f"A random {a} journey reaches {page} {word} than a random {b} "
            f"journey in {text.percent(share)} of pairs, ties counted as half "
            f"({interval(*ends, text.percent)}; {p_text})."
        )
        who = f"{text.integer(min(row['count_a'], row['count_b']))} journeys reaching {page} in the smaller plan"
    else:
        rose = row["direction"] == "greater"
        verb = "rose" if rose else "fell"
        pages = row["value_measure"].removeprefix("mean share of page visits that are ")
        majority = "a majority" if row["value_b"] > 0.5 else "not a majority"
        margin_text = f"a shift for {text.percent(row['null'] + row['margin'])} of users or more"
        changed = row["count_a"] + row["count_b"]
        shifted = row["count_a"] if rose else row["count_b"]
        effect = row["effect"] if rose else 1 - row["effect"]
        ends = (row["ci_low"], row["ci_high"]) if rose else (1 - row["ci_high"], 1 - row["ci_low"])
        body = (
            f"{pages} make up on average {text.percent(row['value_b'])} of a buyer's page visits in the "
            f"{b} ({majority}) against {text.percent(row['value_a'])} in the {a}. The share {verb} for "
            f"{_of(shifted, changed, 'of the')} buyers whose mix changed ({text.percent(effect)}, "
            f"{interval(*ends, text.percent)}; {p_text}); {text.integer(row['n_a'])} {row['denominator']}."
        )
        who = text.count(row["n_a"], "user")
    return f"{_verdict_opening(row)} {body} {_reason_sentence(row, margin_text)}{_caution(row, who)}"


def finding_sentence(row, confidence=0.95) -> str:
    """One row of :func:`journey_utils.compare.top_differences` as a sentence.

    Parameters
    ----------
    row : Mapping
        A row of ``top_differences``.
    confidence : float, default 0.95
        The coverage the intervals were computed with (before the adjustment
        for selection, when ``ci_level`` says there was one).

    Returns
    -------
    str

    Examples
    --------
    >>> from journey_utils.claims import finding_sentence
    >>> row = {"kind": "presence", "feature": "Coupon", "plan_a": "Annual", "plan_b": "Monthly",
    ...        "value_a": 0.6, "value_b": 0.11, "count_a": 557, "n_a": 931, "count_b": 43, "n_b": 376,
    ...        "effect": 0.49, "effect_low": 0.44, "effect_high": 0.53, "test": "chi-square (Yates)",
    ...        "p_adjusted": 1e-9, "small_sample": False, "denominator": "journeys of the plan"}
    >>> print(finding_sentence(row))  # doctest: +NORMALIZE_WHITESPACE
    Coupon is in 60.0% of Annual journeys and 11.0% of Monthly journeys: +49.0 points for Annual
    (95% CI +44.0 points to +53.0 points; chi-square (Yates), adjusted p < 0.001; 557 of 931 and 43 of 376 journeys).
    """
    a, b = row["plan_a"], row["plan_b"]
    effect, low, high = row["effect"], row["effect_low"], row["effect_high"]
    ahead, behind = (a, b) if effect > 0 else (b, a)
    # The interval as seen from the plan ahead (it may reach below zero).
    magnitude, ends = abs(effect), ((low, high) if effect >= 0 else (-high, -low))
    kind = "selection-adjusted CI" if row.get("ci_level", confidence) != confidence else "CI"
    stats_text = (f"{_interval(*ends, text.points, confidence, kind=kind)}; {row['test']}, "
                  f"adjusted {text.p_value(row['p_adjusted'])}")
    caution = (f" Caution: small sample ({text.integer(min(row['n_a'], row['n_b']))} journeys in the smaller plan); "
               "read as indicative.")
    if row["kind"] in ("presence", "sequence", "destination"):
        if row["kind"] == "presence":
            what = f"{row['feature']} is in"
            of = "journeys"
        elif row["kind"] == "sequence":
            what = f"The path {text.steps(row['feature'])} is in"
            of = "journeys"
        else:
            page, next_page = row["feature"].split(" -> ", 1)
            what = f"{next_page} directly follows {page} in"
            of = f"journeys that leave {page}"
        sentence = (
            f"{what} {text.percent(row['value_a'])} of {a} {of} and {text.percent(row['value_b'])} of {b} {of}: "
            f"{text.points(magnitude)} for {ahead} ({stats_text}; "
            f"{_of(row['count_a'], row['n_a'])} and {_of(row['count_b'], row['n_b'])} journeys)."
        )
        small = min(row["n_a"], row["n_b"])
    else:
        word = "later" if effect > 0 else "earlier"
        share = (1 + magnitude) / 2
        pair_ends = sorted(((1 + ends[0]) / 2, (1 + ends[1]) / 2))
        if text.percent(row["value_a"]) == text.percent(row["value_b"]):
            # Equal medians (often 100%: the page ends most journeys) differ only in the spread.
            medians = (f"the median is {text.percent(row['value_a'])} of the way through for both, "
                       f"so the difference lies in the other journeys")
        else:
            medians = (f"it is first reached at a median of {text.percent(row['value_a'])} of the way through "
                       f"{a} journeys and {text.percent(row['value_b'])} through {b} journeys")
        sentence = (
            f"{a} journeys reach {row['feature']} {word} than {b} journeys: {medians}. "
            f"A random {a} journey reaches it {word} than a random {b} one in "
            f"{text.percent(share)} of pairs, ties counted as half "
            f"({_interval(*pair_ends, text.percent, confidence, kind=kind)}; {row['test']}, adjusted "
            f"{text.p_value(row['p_adjusted'])}; {text.integer(row['count_a'])} and {text.integer(row['count_b'])} "
            f"journeys reach it)."
        )
        small = min(row["count_a"], row["count_b"])
        caution = (f" Caution: small sample ({text.integer(small)} journeys reach it in the smaller plan); "
                   "read as indicative.")
    return sentence + (caution if row["small_sample"] else "")


def finding_sentences(top, confidence=0.95) -> pd.Series:
    """Sentences for every row of :func:`journey_utils.compare.top_differences`, same index.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.compare import top_differences
    >>> from journey_utils.claims import finding_sentences
    >>> df = pd.DataFrame({"user_journey": ["A-B"] * 40 + ["B"] * 40,
    ...                    "subscription_type": ["x"] * 40 + ["y"] * 40})
    >>> finding_sentences(top_differences(df, kinds=["presence"])).iloc[0][:72]
    'A is in 100.0% of x journeys and 0.0% of y journeys: +100.0 points for x'
    """
    return pd.Series([finding_sentence(row, confidence) for _, row in top.iterrows()], index=top.index,
                     name="sentence", dtype="str")


def findings_text(top, *, alpha=0.05, confidence=0.95) -> list[str]:
    """The findings as a list of sentences, or one sentence saying none was found.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.claims import findings_text
    >>> from journey_utils.compare import top_differences
    >>> df = pd.DataFrame({"user_journey": ["A"] * 4, "subscription_type": ["x", "y"] * 2})
    >>> findings_text(top_differences(df, kinds=["presence"]))
    ['No difference between plans is statistically significant at a false discovery rate of 5%.']
    """
    if len(top) == 0:
        return [f"No difference between plans is statistically significant at a false discovery rate of "
                f"{text.percent(alpha, 0)}."]
    return finding_sentences(top, confidence).tolist()
