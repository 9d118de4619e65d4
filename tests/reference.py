"""Slow, obviously-correct reference implementation of the journey pipeline.

Everything here is plain per-row Python (lists, dicts and loops, no pandas or
numpy) so that it can be checked by reading it.  The library's tests compare
``journey_utils`` against these functions, and the benchmark times them as the
"per-row" baseline.

Conventions shared with the library:

* a journey is a string of page names joined by ``-``; ``''`` is the journey
  with no pages;
* grouped data is a dict ``user_id -> (plan, journey, n_sessions)``;
* metric functions take a list of journeys (already filtered by plan by the
  caller, see :func:`journeys_for_plan`) and return plain dicts.
"""

SEPARATOR = "-"


def split_journey(journey):
    """Return the pages of ``journey`` in visit order (``''`` has no pages)."""
    if journey == "":
        return []
    return journey.split(SEPARATOR)


def join_pages(pages):
    """Inverse of :func:`split_journey`."""
    return SEPARATOR.join(pages)


def _dedupe_pages(pages):
    result = []
    for page in pages:
        # Only an immediate repeat is dropped: A-B-A keeps both A's.
        if not result or result[-1] != page:
            result.append(page)
    return result


def remove_page_duplicates(journeys):
    """Collapse runs of the same page in each journey (A-A-B-A -> A-B-A)."""
    return [join_pages(_dedupe_pages(split_journey(j))) for j in journeys]


def _check_session_args(sessions, count_from):
    if sessions != "All":
        # bool is an int subclass, but True sessions is surely a mistake.
        if isinstance(sessions, bool) or not isinstance(sessions, int) or sessions < 1:
            raise ValueError(f"sessions must be 'All' or a positive int, got {sessions!r}")
    if count_from not in ("first", "last"):
        raise ValueError(f"count_from must be 'first' or 'last', got {count_from!r}")


def group_sessions(rows, sessions="All", count_from="last"):
    """Join each user's sessions into one journey, earliest session first.

    ``rows`` is an iterable of ``(user_id, session_id, plan, journey)`` in any
    order.  With an int ``sessions`` only the first or last N sessions (by
    session_id) are kept, still joined earliest to latest.  The plan reported
    is that of the latest kept session.  Returns
    ``{user_id: (plan, journey, n_sessions_kept)}``.
    """
    _check_session_args(sessions, count_from)
    by_user = {}
    for user_id, session_id, plan, journey in rows:
        by_user.setdefault(user_id, []).append((session_id, plan, journey))

    grouped = {}
    for user_id, user_sessions in by_user.items():
        user_sessions.sort(key=lambda s: s[0])
        if sessions != "All":
            if count_from == "first":
                user_sessions = user_sessions[:sessions]
            else:
                user_sessions = user_sessions[-sessions:]
        pages = []
        for _, _, journey in user_sessions:
            # Concatenating page lists (not strings) keeps an empty session
            # from producing an empty page name.
            pages.extend(split_journey(journey))
        plan = user_sessions[-1][1]
        grouped[user_id] = (plan, join_pages(pages), len(user_sessions))
    return grouped


def _page_set(pages):
    # A single page name given as a bare string means that one page.
    if isinstance(pages, str):
        return {pages}
    return set(pages)


def remove_pages(journeys, pages):
    """Drop every page listed in ``pages`` from each journey.

    A journey left with no pages becomes ``''`` and is kept.
    """
    unwanted = _page_set(pages)
    return [join_pages([p for p in split_journey(j) if p not in unwanted]) for j in journeys]


def _map_journeys(grouped, transform):
    """Apply a list-of-journeys transform to the journeys of grouped data."""
    user_ids = list(grouped)
    new_journeys = transform([grouped[u][1] for u in user_ids])
    return {
        u: (grouped[u][0], journey, grouped[u][2])
        for u, journey in zip(user_ids, new_journeys)
    }


def preprocess(rows, sessions="All", count_from="last", pages_to_remove=()):
    """Group sessions, then remove pages, then collapse repeated pages."""
    grouped = group_sessions(rows, sessions=sessions, count_from=count_from)
    grouped = _map_journeys(grouped, lambda js: remove_pages(js, pages_to_remove))
    return _map_journeys(grouped, remove_page_duplicates)


def window_journeys(rows, n=3, later="last", pages_to_remove=()):
    """Each user's first ``n`` sessions against their last ``n`` (``later='rest'``: all later ones).

    Users with fewer than ``2 * n`` sessions (``'rest'``: ``n + 1``) are left
    out. Returns ``(user, plan, sessions, first, last, first_sessions,
    last_sessions)`` tuples sorted by user, both journeys preprocessed.
    """
    by_user = {}
    for user_id, session_id, plan, journey in rows:
        by_user.setdefault(user_id, []).append((session_id, plan, journey))
    minimum = 2 * n if later == "last" else n + 1
    unwanted = _page_set(pages_to_remove)

    def journey_of(user_sessions):
        pages = [page for _, _, journey in user_sessions for page in split_journey(journey)]
        return join_pages(_dedupe_pages([page for page in pages if page not in unwanted]))

    out = []
    for user_id in sorted(by_user):
        user_sessions = sorted(by_user[user_id], key=lambda s: s[0])
        if len(user_sessions) < minimum:
            continue
        first = user_sessions[:n]
        last = user_sessions[-n:] if later == "last" else user_sessions[n:]
        out.append((user_id, user_sessions[-1][1], len(user_sessions), journey_of(first), journey_of(last),
                    len(first), len(last)))
    return out


def journeys_for_plan(grouped, plan="All"):
    """Journeys of grouped data (by ascending user_id) for a plan selection.

    ``plan`` is ``'All'``, one plan name, or a list of plan names.
    """
    if plan == "All":
        wanted = None
    elif isinstance(plan, str):
        wanted = {plan}
    else:
        wanted = set(plan)
    return [
        journey
        for _, (user_plan, journey, _) in sorted(grouped.items())
        if wanted is None or user_plan in wanted
    ]


def page_count(journeys):
    """Total occurrences of each page over all journeys."""
    counts = {}
    for journey in journeys:
        for page in split_journey(journey):
            counts[page] = counts.get(page, 0) + 1
    return counts


def page_presence(journeys):
    """Number of journeys in which each page appears at least once."""
    counts = {}
    for journey in journeys:
        for page in set(split_journey(journey)):
            counts[page] = counts.get(page, 0) + 1
    return counts


def page_destinations(journeys, page):
    """How often each page directly follows ``page``."""
    counts = {}
    for journey in journeys:
        pages = split_journey(journey)
        for i in range(len(pages) - 1):
            if pages[i] == page:
                nxt = pages[i + 1]
                counts[nxt] = counts.get(nxt, 0) + 1
    return counts


def page_transitions(journeys):
    """Count of every ``(page, next_page)`` pair of consecutive pages."""
    counts = {}
    for journey in journeys:
        pages = split_journey(journey)
        for i in range(len(pages) - 1):
            pair = (pages[i], pages[i + 1])
            counts[pair] = counts.get(pair, 0) + 1
    return counts


def page_sequences(journeys, n=3):
    """Number of journeys containing each run of ``n`` consecutive pages.

    A run that occurs several times in one journey counts once for it.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    counts = {}
    for journey in journeys:
        pages = split_journey(journey)
        seen = set()
        for i in range(len(pages) - n + 1):
            seen.add(join_pages(pages[i : i + n]))
        for sequence in seen:
            counts[sequence] = counts.get(sequence, 0) + 1
    return counts


def journey_lengths(journeys):
    """Number of pages in each journey, in input order."""
    return [len(split_journey(j)) for j in journeys]


def journey_length(journeys):
    """Mean number of pages per journey (NaN when there are no journeys)."""
    lengths = journey_lengths(journeys)
    if not lengths:
        return float("nan")
    return sum(lengths) / len(lengths)


def ranked(d):
    """Items of ``d`` sorted by value descending, then key ascending."""
    return sorted(d.items(), key=lambda item: (-item[1], item[0]))


def plain_holm(p):
    """Holm's step-down adjusted p-values, by the textbook definition."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out
