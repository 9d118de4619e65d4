"""Takeaways: the few facts a report opens with, computed from the journeys and worded plainly.

Two functions feed a report's executive summary (``report.summary``):

- :func:`journey_takeaways` for one plan's (or all plans') report: the page in the most
  journeys, the most common whole journey, the page journeys end on, how long
  journeys are, and a caution when the plan has few buyers;
- :func:`plan_takeaways` for the comparison of plans: the largest differences in
  the share of each plan's journeys that see a page, end on a page, or are one
  whole journey, each with its counts and a short suggestion worded from its
  numbers.

Both return plain DataFrames with two kinds of columns:

- **data** (names unescaped, numbers as numbers) for code and tests: ``kind``,
  ``subject``, counts, shares, plans;
- **text** (Markdown, every name escaped and every number formatted by
  :func:`journey_utils.text.phrase`) for the report: ``headline``, ``number``,
  ``detail`` and ``suggestion``.

Shares are put in words by :func:`in_words` ("6 in 10", "1 in 9"). Nothing is
worded for one website: page and plan names come from the data.

Examples
--------
>>> import pandas as pd
>>> from journey_utils import summary
>>> journeys = pd.DataFrame({"user_journey": ["Home-Pay", "Home-Pay", "Blog"],
...                          "subscription_type": ["A", "A", "B"]})
>>> print(summary.journey_takeaways(journeys)["headline"].iloc[0])
7 in 10 buyers saw **Home**, more than any other page
>>> from journey_utils import text
>>> text.in_words(0.598), text.in_words(0.114)
('6 in 10', '1 in 9')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journey_utils import _codes, inference, text
from journey_utils._checks import check_frame, check_positive_int, selected_plans
from journey_utils.columns import PLAN, SEPARATOR, SESSION, TARGET, USER
from journey_utils.metrics import journey_lengths, page_presence

__all__ = [
    "SMALL_PLAN",
    "MIN_DIFFERENCE",
    "ALPHA",
    "JOURNEY_COLUMNS",
    "PLAN_COLUMNS",
    "is_small",
    "journey_takeaways",
    "plan_takeaways",
]

#: A plan with fewer buyers than this is a small sample: its report carries a caution, and its
#: differences from other plans rank after those of larger plans.
SMALL_PLAN = 50
#: The smallest difference in share (0.05 = 5 percentage points) worth a comparison takeaway.
MIN_DIFFERENCE = 0.05
#: False discovery rate of the comparison takeaways' tests (Benjamini–Hochberg over the candidates).
ALPHA = 0.05
#: A whole journey is a comparison takeaway when at least this share of a plan's buyers had it.
NOTABLE_JOURNEY = 0.05

#: When there are at least this many different journeys per buyer, journeys are said to vary.
VARIED = 0.8

#: Columns of :func:`journey_takeaways`: data first, then the report's text.
JOURNEY_COLUMNS = ["kind", "subject", "count", "total", "share", "headline", "number", "detail"]
#: Columns of :func:`plan_takeaways`: data first, then the report's text.
PLAN_COLUMNS = ["kind", "subject", "plan_a", "plan_b", "count_a", "total_a", "share_a", "count_b", "total_b",
                "share_b", "difference", "small_sample", "test", "p_value", "p_adjusted", "plans",
                "headline", "number", "suggestion"]

# The order of the kinds in a report's summary.
_JOURNEY_KINDS = ["top_page", "common_journey", "end_page", "length", "small_sample"]
_PLAN_KINDS = {"page": 0, "end_page": 1, "journey": 2}


def is_small(buyers, threshold: int = SMALL_PLAN) -> bool:
    """Whether ``buyers`` journeys are a small sample (fewer than ``threshold``).

    Examples
    --------
    >>> from journey_utils.summary import is_small
    >>> is_small(43), is_small(931)
    (True, False)
    """
    return int(buyers) < check_positive_int(threshold, "threshold", "is_small")


def _who(plans) -> str:
    """'Annual buyers' for one plan, 'buyers' for several or all."""
    return f"{plans[0]} buyers" if plans is not None and len(plans) == 1 else "buyers"


def _selected(journeys, plan, function):
    check_frame(journeys, function, [TARGET])
    if plan is None:
        return journeys, None
    plans = selected_plans(journeys, plan, PLAN, function)
    return journeys[journeys[PLAN].isin(plans)], plans


def _last_pages(journeys: pd.Series) -> pd.Series:
    """The last page of each non-empty journey, index kept (from the journeys' page codes, no string splitting)."""
    coded = _codes.encode(journeys)
    ends = coded.offsets[1:]
    nonempty = ends > coded.offsets[:-1]
    pages = coded.pages[coded.codes[ends[nonempty] - 1]]
    return pd.Series(pages, index=journeys.index[nonempty], dtype="str", name=journeys.name)


def _row(kind, subject, count, total, share, headline, number, detail) -> dict:
    return {"kind": kind, "subject": subject, "count": count, "total": total, "share": share,
            "headline": headline, "number": text.Markup(number), "detail": detail}


def journey_takeaways(journeys, *, sessions=None, plan=None, top=5, small=SMALL_PLAN) -> pd.DataFrame:
    """The takeaways of one plan's (or all plans') journey report, most telling first.

    Rows, in this order (each only when the data has something to say):

    - ``top_page``: the page in the most journeys ("6 in 10 buyers saw **Coupon**");
    - ``common_journey``: the most common whole journey and how many buyers had it
      (or that no two buyers had the same journey);
    - ``end_page``: the page journeys most often end on (for buyers, the step where
      they bought);
    - ``length``: the median pages per journey (and sessions per buyer when
      ``sessions`` is given);
    - ``small_sample``: a caution when there are fewer than ``small`` buyers.

    Parameters
    ----------
    journeys : DataFrame
        Journeys, one per buyer (:func:`journey_utils.preprocess`).
    sessions : DataFrame, optional
        The sessions the journeys were made from, or their user table
        (:func:`journey_utils.user_table`): adds the median number of sessions per
        buyer (counted over the buyers of ``journeys``).
    plan : None, str or list of str, default None
        The plan(s) the report is about; None for every journey given. One plan
        is named in the wording ("Annual buyers").
    top : int, default 5
        Most rows returned (the caution is always kept).
    small : int, default SMALL_PLAN
        Fewer buyers than this add the ``small_sample`` caution.

    Returns
    -------
    DataFrame
        Data columns: ``kind`` (above), ``subject`` (the page or journey as in
        the data, unescaped; None for ``length`` and ``small_sample``),
        ``count`` (buyers it is true of), ``total`` (buyers), ``share``
        (``count / total``; for ``length`` the median pages). Text columns
        (Markdown, names escaped): ``headline`` (one plain sentence),
        ``number`` (the one number that matters, formatted) and ``detail``
        (the counts behind it). Empty, with these columns, when there are no
        journeys.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.summary import journey_takeaways
    >>> journeys = pd.DataFrame({"user_journey": ["Home-Pay", "Home-Pay", "Blog-Pay", "Blog"],
    ...                          "subscription_type": ["A", "A", "A", "B"]})
    >>> table = journey_takeaways(journeys, plan="A", small=2)
    >>> table[["kind", "subject", "count", "total"]].values.tolist()
    [['top_page', 'Pay', 3, 3], ['common_journey', 'Home-Pay', 2, 3], ['end_page', 'Pay', 3, 3], ['length', None, 3, 3]]
    >>> print(table["headline"].iloc[1])
    The most common journey, **Home → Pay**, was 2 of 3 A buyers' whole journey
    """
    function = "journey_takeaways"
    top = check_positive_int(top, "top", function)
    chosen, plans = _selected(journeys, plan, function)
    total = len(chosen)
    if total == 0:
        return pd.DataFrame(columns=JOURNEY_COLUMNS)
    who = _who(plans)
    rows = [*_top_page(chosen, total, who), *_common_journey(chosen, total, who), *_end_page(chosen, total, who)]
    rows.append(_length_row(chosen, sessions, total, who))
    rows = rows[:top]
    if is_small(total, small):
        rows.append(_row("small_sample", None, total, total, float("nan"),
                         text.phrase("Only {total:,} {who}: read these shares as rough", total=total, who=who),
                         text.integer(total),
                         text.phrase("A share of {total:,} buyers can move by several points with a handful of "
                                     "buyers; fewer than {small:,} buyers is a small sample.", total=total,
                                     small=small)))
    table = pd.DataFrame(rows, columns=JOURNEY_COLUMNS)
    return _kept_as_given(table, rows, ["subject", "headline", "number", "detail"])


def _kept_as_given(table, rows, columns) -> pd.DataFrame:
    """Columns stored as Python objects: None stays None and report text stays :class:`text.Markup`.

    (A string column would turn Markup into plain strings, which a report would escape again.)
    """
    for column in columns:
        table[column] = pd.Series([row[column] for row in rows], index=table.index, dtype=object)
    return table


def _ranked_counts(counts: pd.Series) -> pd.DataFrame:
    """Counts as a frame ``name``, ``count`` sorted by count descending, then name."""
    frame = pd.DataFrame({"name": counts.index.astype(str), "count": counts.to_numpy(dtype=np.int64)})
    return frame.sort_values(["count", "name"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _next_one(ranked: pd.DataFrame, total: int, template: str) -> text.Markup:
    """'; next: **Homepage** (57.3%)' for the runner-up of ``ranked``, or nothing."""
    if len(ranked) < 2:
        return text.Markup("")
    return text.phrase(template, page=ranked["name"].iloc[1], share=int(ranked["count"].iloc[1]) / total)


def _top_page(chosen, total, who) -> list:
    ranked = _ranked_counts(page_presence(chosen, target_column=TARGET))
    if ranked.empty:
        return []
    page, count = ranked["name"].iloc[0], int(ranked["count"].iloc[0])
    detail = text.phrase("{count:,} of {total:,} {who}{next}", count=count, total=total, who=who,
                         next=_next_one(ranked, total, "; next: **{page}** ({share:%})"))
    return [_row("top_page", page, count, total, count / total,
                 text.phrase("{words} {who} saw **{page}**, more than any other page",
                             words=_capital(text.in_words(count / total)), who=who, page=page),
                 text.percent(count / total), detail)]


def _end_page(chosen, total, who) -> list:
    ranked = _ranked_counts(_last_pages(chosen[TARGET]).value_counts())
    if ranked.empty:
        return []
    page, count = ranked["name"].iloc[0], int(ranked["count"].iloc[0])
    detail = text.phrase("{count:,} of {total:,} journeys{next}", count=count, total=total,
                         next=_next_one(ranked, total, "; next most often **{page}** ({share:%})"))
    return [_row("end_page", page, count, total, count / total,
                 text.phrase("{words} {who}' journeys end on **{page}**, the last page before buying",
                             words=_capital(text.in_words(count / total)), who=who, page=page),
                 text.percent(count / total), detail)]


def _capital(words: str) -> str:
    return words[:1].upper() + words[1:]


def _common_journey(chosen, total, who) -> list:
    counts = _ranked_counts(chosen.loc[chosen[TARGET].str.len() > 0, TARGET].value_counts())
    if counts.empty:
        return []
    journey, count = counts["name"].iloc[0], int(counts["count"].iloc[0])
    if count < 2:
        return [_row("common_journey", None, len(counts), total, len(counts) / total,
                     text.phrase("No two {who} had the same journey", who=who),
                     text.integer(len(counts)),
                     text.phrase("{n:,} different journeys for {total:,} {who}", n=len(counts), total=total,
                                 who=who))]
    if len(counts) >= VARIED * total:
        return [_row("common_journey", journey, count, total, count / total,
                     text.phrase("Journeys vary: {n:,} different journeys for {total:,} {who}", n=len(counts),
                                 total=total, who=who),
                     text.integer(len(counts)),
                     text.phrase("The most common, **{journey:steps}**, was the whole journey of {count:,} {who}",
                                 journey=journey, count=count, who=who))]
    one_page = SEPARATOR not in journey
    template = ("The most common journey was just **{journey}**: {count:,} of {total:,} {who} saw only that page"
                if one_page else
                "The most common journey, **{journey:steps}**, was {count:,} of {total:,} {who}' whole journey")
    return [_row("common_journey", journey, count, total, count / total,
                 text.phrase(template, journey=journey, count=count, total=total, who=who),
                 text.percent(count / total),
                 text.phrase("{n:,} different journeys among {total:,} {who}", n=len(counts), total=total,
                             who=who))]


def _length_row(chosen, sessions, total, who) -> dict:
    lengths = journey_lengths(chosen, target_column=TARGET)
    median = float(lengths.median())
    detail = text.phrase("{mean:.1f} pages on average; the longest has {longest:,}", mean=float(lengths.mean()),
                         longest=int(lengths.max()))
    headline = text.phrase("Half of {who}' journeys have {median:,} pages or fewer", who=who, median=median)
    if sessions is not None:
        if "sessions_total" in sessions.columns:  # a user table: one row per user, their sessions counted
            check_frame(sessions, "journey_takeaways", [USER, "sessions_total"])
            per_buyer = sessions.loc[sessions[USER].isin(chosen[USER]), "sessions_total"]
        else:
            check_frame(sessions, "journey_takeaways", [USER, SESSION])
            mine = sessions.loc[sessions[USER].isin(chosen[USER]), [USER, SESSION]]
            per_buyer = mine.drop_duplicates().groupby(USER).size()
        if len(per_buyer):
            headline = text.phrase("{Who} had a median of {sessions:,} sessions and {median:,} pages before buying",
                                   Who=_capital(who), sessions=float(per_buyer.median()), median=median)
    return _row("length", None, total, total, median, headline, text.phrase("{median:,} pages", median=median),
                detail)


# ----------------------------------------------------------------------------- plans


def _pairs(table: pd.DataFrame, kind: str, sizes: pd.Series, small: int) -> pd.DataFrame:
    """Every (subject, plan_a, plan_b) with plan_a's share above plan_b's, from counts per (subject, plan)."""
    if table.empty:
        return pd.DataFrame()
    wide = table.pivot_table(index="subject", columns="plan", values="count", fill_value=0, aggfunc="sum")
    wide = wide.reindex(columns=sizes.index, fill_value=0).rename_axis(index="subject", columns="plan")
    long = wide.stack().rename("count").reset_index()
    long["total"] = long["plan"].map(sizes).astype(np.int64)
    long["share"] = long["count"] / long["total"]
    pairs = long.merge(long, on="subject", suffixes=("_a", "_b"))
    pairs = pairs[pairs["share_a"] > pairs["share_b"]].copy()
    pairs["kind"] = kind
    pairs["difference"] = pairs["share_a"] - pairs["share_b"]
    pairs["small_sample"] = (pairs["total_a"] < small) | (pairs["total_b"] < small)
    return pairs


def _candidates(chosen, last, plans, small) -> pd.DataFrame:
    sizes = chosen[PLAN].value_counts().reindex(plans, fill_value=0).rename_axis("plan")
    sizes = sizes[sizes > 0]
    parts = []
    pages = pd.concat({plan: page_presence(chosen, plan=[plan], target_column=TARGET, plan_column=PLAN)
                       for plan in sizes.index}, names=["plan", "subject"]).rename("count").reset_index()
    parts.append(_pairs(pages, "page", sizes, small))
    ends = last.groupby(chosen.loc[last.index, PLAN]).value_counts()
    ends = ends.rename("count").rename_axis(["plan", "subject"]).reset_index()
    parts.append(_pairs(ends, "end_page", sizes, small))
    whole = chosen.loc[chosen[TARGET].str.len() > 0].groupby([PLAN, TARGET]).size()
    whole = whole.rename("count").rename_axis(["plan", "subject"]).reset_index()
    whole = whole[whole["count"] >= 2]
    whole = whole[whole["count"] >= NOTABLE_JOURNEY * whole["plan"].map(sizes).astype("float64")]
    if len(whole):
        # Every plan's count of the notable journeys (zero where a plan never had it).
        counts = chosen.loc[chosen[TARGET].isin(whole["subject"])].groupby([PLAN, TARGET]).size()
        counts = counts.rename("count").rename_axis(["plan", "subject"]).reset_index()
        journeys = _pairs(counts, "journey", sizes, small)
        parts.append(journeys[journeys["share_a"] >= NOTABLE_JOURNEY])
    frame = pd.concat(parts, ignore_index=True)
    return frame


def _with_tests(frame, tests, alpha) -> pd.DataFrame:
    """p-values of each candidate's two-plan table, adjusted together; ``tests`` decides for pages when given."""
    frame = frame.copy()
    counts = frame[["count_a", "count_b"]].to_numpy()
    sizes = frame[["total_a", "total_b"]].to_numpy()
    results = inference.share_tests(counts, sizes)
    frame["test"] = results["test"].to_numpy()
    frame["p_value"] = results["p_value"].to_numpy()
    frame["p_adjusted"] = inference.adjust_pvalues(frame["p_value"].to_numpy())
    frame["significant"] = frame["p_adjusted"] <= alpha
    if tests is not None:
        frame = _tests_decide(frame, tests)
    return frame


def _tests_decide(frame, tests) -> pd.DataFrame:
    """Page rows take their test, p-values and significance from the report's own tests."""
    check_frame(tests, "plan_takeaways", ["significant"])
    given = tests[tests["kind"] == "presence"] if "kind" in tests.columns else tests
    key = "feature" if "feature" in given.columns else "page"
    check_frame(given, "plan_takeaways", [key])
    page = frame["kind"] == "page"
    if {"plan_a", "plan_b"} <= set(given.columns):
        both = pd.concat([given, given.rename(columns={"plan_a": "plan_b", "plan_b": "plan_a"})])
        both = both.drop_duplicates([key, "plan_a", "plan_b"])
        on = [key, "plan_a", "plan_b"]
        looked = frame.loc[page, ["subject", "plan_a", "plan_b"]].rename(columns={"subject": key})
    else:
        both = given.drop_duplicates(key)
        on = [key]
        looked = frame.loc[page, ["subject"]].rename(columns={"subject": key})
    columns = [c for c in ("test", "p_value", "p_adjusted") if c in both.columns]
    found = looked.merge(both[on + columns + ["significant"]], on=on, how="left")
    found.index = looked.index
    frame.loc[page, "significant"] = found["significant"].fillna(False).astype(bool).to_numpy()
    for column in columns:
        frame.loc[page, column] = found[column].to_numpy()
    return frame


def _page_words(row) -> tuple:
    words_a, words_b = _capital(text.in_words(row.share_a)), text.in_words(row.share_b)
    headline = text.phrase("{wa} {a} buyers ({ca:,} of {ta:,}) saw **{page}**, against {wb} {b} buyers "
                           "({cb:,} of {tb:,})", wa=words_a, a=row.plan_a, ca=row.count_a, ta=row.total_a,
                           page=row.subject, wb=words_b, b=row.plan_b, cb=row.count_b, tb=row.total_b)
    values = dict(page=row.subject, a=row.plan_a, b=row.plan_b, sa=row.share_a, sb=row.share_b,
                  ratio=row.share_a / row.share_b if row.share_b else float("inf"))
    if row.share_a >= 0.5 and row.share_b < 0.25:
        suggestion = ("Most {a} buyers pass through **{page}** and few {b} buyers do: find out what brings "
                      "{a} buyers there, and whether {b} visitors would use it if they were shown it.")
    elif row.share_b == 0:
        suggestion = "No {b} buyer saw **{page}**: check whether it is offered to {b} visitors at all."
    elif values["ratio"] >= 2:
        suggestion = ("{a} buyers see **{page}** {ratio:.1f} times as often as {b} buyers: a page worth a look "
                      "when asking what sets the two plans' buyers apart.")
    else:
        suggestion = ("{b} buyers see **{page}** less often ({sb:.0%} against {sa:.0%}): check whether {b} "
                      "visitors find it as easily, or buy without needing it.")
    return headline, text.phrase(suggestion, **values)


def _end_words(row, ends) -> tuple:
    headline = text.phrase("{wa} {a} buyers' journeys ({ca:,} of {ta:,}) end on **{page}**, against {wb} "
                           "{b} buyers' ({cb:,} of {tb:,})", wa=_capital(text.in_words(row.share_a)), a=row.plan_a,
                           ca=row.count_a, ta=row.total_a, page=row.subject, wb=text.in_words(row.share_b),
                           b=row.plan_b, cb=row.count_b, tb=row.total_b)
    usual_b = ends.get(row.plan_b)
    if usual_b is not None and usual_b != row.subject:
        suggestion = text.phrase("{a} buyers {how} finish on **{page}**, {b} buyers most often on **{other}**: the "
                                 "two plans are bought along different last steps; make sure both are easy to reach.",
                                 a=row.plan_a, b=row.plan_b, page=row.subject, other=usual_b,
                                 how="mostly" if row.share_a >= 0.5 else "often")
    else:
        suggestion = text.phrase("**{page}** is the last step for more {a} buyers than {b} buyers ({d:pp}): look at "
                                 "where the other {b} buyers finish instead.", a=row.plan_a, b=row.plan_b,
                                 page=row.subject, d=row.difference)
    return headline, suggestion


def _journey_words(row) -> tuple:
    one_page = SEPARATOR not in row.subject
    values = dict(ca=row.count_a, a=row.plan_a, sa=row.share_a, journey=row.subject, sb=row.share_b, b=row.plan_b)
    if one_page:
        headline = text.phrase("{ca:,} {a} buyers ({sa:%}) had a journey of just **{journey}**, against {sb:%} of "
                               "{b} buyers", **values)
        suggestion = text.phrase("These {a} buyers saw no page but **{journey}** before buying: find where they "
                                 "come from (a link, an e-mail, a campaign) and whether more visitors could be "
                                 "sent there.", **values)
    else:
        headline = text.phrase("{ca:,} {a} buyers ({sa:%}) followed exactly **{journey:steps}** and nothing else, "
                               "against {sb:%} of {b} buyers", **values)
        suggestion = text.phrase("A ready-made route for {a} buyers: keep each step of **{journey:steps}** quick, "
                                 "and see whether {b} visitors are offered it.", **values)
    return headline, suggestion


def plan_takeaways(journeys, plans=None, *, tests=None, n=5, small=SMALL_PLAN, alpha=ALPHA,
                   min_difference=MIN_DIFFERENCE) -> pd.DataFrame:
    """The largest differences between plans, in plain words, with their counts and a suggestion.

    Three kinds of difference between two plans are candidates, each in shares of
    the plans' buyers (journeys):

    - ``page``: the share of journeys that include a page ("6 in 10 Annual
      buyers saw **Coupon**, against 1 in 9 Monthly buyers");
    - ``end_page``: the share of journeys that end on a page;
    - ``journey``: the share of buyers whose whole journey was one given journey,
      when at least 5% of a plan's buyers had it ("147 Annual buyers (15.8%)
      had a journey of just **Coupon**").

    For each page (or journey) the pair of plans with the largest difference is
    kept, and a page is told once (as ``page`` or ``end_page``, whichever
    differs more). Each candidate's two-plan table is tested
    (:func:`journey_utils.inference.share_tests`) and the p-values of all
    candidates adjusted together (Benjamini–Hochberg); only significant
    differences of at least ``min_difference`` are kept. Ranking: differences
    between plans of ``small`` buyers or more first, then by difference
    (descending), kind, subject and plans. The best ``journey`` row, when there is
    one, is always among the ``n``.

    Parameters
    ----------
    journeys : DataFrame
        Journeys, one per buyer, with the plan column.
    plans : list of str, optional
        Plans to compare; default every plan, sorted by name.
    tests : DataFrame, optional
        The report's own tests of pages between plans: the output of
        :func:`journey_utils.compare.top_differences` (rows of kind
        ``presence``: ``feature``, ``plan_a``, ``plan_b``, ``significant``,
        ``p_adjusted``) or of :func:`journey_utils.compare.compare_presence`
        (``page``, ``significant``). When given, a ``page`` row is kept only if
        its page (and pair of plans, when the table has them) is significant
        there, and takes its test and p-values, so the summary never states a
        difference the report's tests do not support.
    n : int, default 5
        Rows returned.
    small : int, default SMALL_PLAN
        Plans with fewer buyers are small samples (``small_sample``).
    alpha : float, default ALPHA
        False discovery rate of the tests.
    min_difference : float, default MIN_DIFFERENCE
        Smallest difference in share kept.

    Returns
    -------
    DataFrame
        Data columns (names unescaped): ``kind``, ``subject`` (page or
        ``'A-B'`` journey), ``plan_a`` (the plan with the larger share),
        ``plan_b``, ``count_a``/``total_a``/``share_a``,
        ``count_b``/``total_b``/``share_b``, ``difference`` (``share_a -
        share_b``), ``small_sample``, ``test``, ``p_value``, ``p_adjusted``, and
        ``plans`` (``[plan_a, plan_b]``). Text columns (Markdown, names escaped):
        ``headline``, ``number`` (``'60% vs 11%'``) and ``suggestion`` (worded
        from the numbers). Empty, with these columns, when fewer than two plans
        have journeys or no difference is large and significant enough.

    Examples
    --------
    >>> import pandas as pd
    >>> from journey_utils.summary import plan_takeaways
    >>> journeys = pd.DataFrame({"user_journey": ["Home-Pay"] * 60 + ["Deal-Pay"] * 40 + ["Home-Pay"] * 90
    ...                                          + ["Deal-Pay"] * 10,
    ...                          "subscription_type": ["A"] * 100 + ["B"] * 100})
    >>> table = plan_takeaways(journeys)
    >>> table[["kind", "subject", "plan_a", "count_a", "plan_b", "count_b"]].values.tolist()[0]
    ['page', 'Deal', 'A', 40, 'B', 10]
    >>> print(table["headline"].iloc[0])
    4 in 10 A buyers (40 of 100) saw **Deal**, against 1 in 10 B buyers (10 of 100)
    >>> print(table["number"].iloc[0])
    40% vs 10%
    """
    function = "plan_takeaways"
    check_frame(journeys, function, [TARGET, PLAN])
    n = check_positive_int(n, "n", function)
    small = check_positive_int(small, "small", function)
    chosen_plans = selected_plans(journeys, plans, PLAN, function)
    chosen = journeys[journeys[PLAN].isin(chosen_plans)]
    if chosen[PLAN].nunique() < 2:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    last = _last_pages(chosen[TARGET])
    frame = _candidates(chosen, last, chosen_plans, small)
    if frame.empty or (frame := frame[frame["difference"] >= min_difference]).empty:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    frame = _with_tests(frame, tests, alpha)
    frame = frame[frame["significant"]]
    frame = _ranked(frame)
    # One row per page (its kind that differs most) and per journey: the best pair of plans.
    frame = frame.assign(topic=np.where(frame["kind"] == "journey", "journey", "page"))
    frame = frame.drop_duplicates(["topic", "subject"])
    journeys_kept = frame[frame["topic"] == "journey"].head(1)
    pages_kept = frame[frame["topic"] == "page"].head(n - len(journeys_kept))
    frame = _ranked(pd.concat([pages_kept, journeys_kept]))
    if frame.empty:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    ends = _usual_ends(chosen, last)
    words = [(_page_words(row) if row.kind == "page" else _end_words(row, ends) if row.kind == "end_page"
              else _journey_words(row)) for row in frame.itertuples(index=False)]
    frame = frame.reset_index(drop=True)
    for column in ("count_a", "total_a", "count_b", "total_b"):
        frame[column] = frame[column].astype(np.int64)
    rows = [{"headline": headline, "suggestion": suggestion, "plans": [a, b],
             "number": text.Markup(f"{text.percent(share_a, 0)} vs {text.percent(share_b, 0)}")}
            for (headline, suggestion), a, b, share_a, share_b
            in zip(words, frame["plan_a"], frame["plan_b"], frame["share_a"], frame["share_b"])]
    frame = frame.reindex(columns=PLAN_COLUMNS)
    return _kept_as_given(frame, rows, ["headline", "number", "suggestion", "plans"])


def _ranked(frame) -> pd.DataFrame:
    order = frame.assign(_kind=frame["kind"].map(_PLAN_KINDS))
    order = order.sort_values(["small_sample", "difference", "_kind", "subject", "plan_a", "plan_b"],
                              ascending=[True, False, True, True, True, True], kind="stable")
    return order.drop(columns="_kind")


def _usual_ends(chosen, last) -> dict:
    """Each plan's most common last page (ties by name)."""
    counts = last.groupby(chosen.loc[last.index, PLAN]).value_counts().rename("count").reset_index()
    counts.columns = ["plan", "page", "count"]
    counts = counts.sort_values(["plan", "count", "page"], ascending=[True, False, True], kind="stable")
    return dict(counts.drop_duplicates("plan")[["plan", "page"]].itertuples(index=False, name=None))
