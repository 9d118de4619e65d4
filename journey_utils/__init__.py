"""journey_utils — how subscription buyers move through a website before they purchase.

Load sessions, turn them into one journey per user, and measure the journeys::

    import journey_utils as ju
    sessions = ju.load_sessions(ju.SAMPLE_PATH)
    journeys = ju.preprocess(sessions, sessions=3, count_from="last", pages_to_remove=["Log in"])
    ju.page_presence(journeys, plan="Annual", normalize=True).head()
"""

from pathlib import Path

from journey_utils.errors import JourneyError
from journey_utils.io import (
    JourneyDataError,
    JourneyDataWarning,
    load_report,
    load_sessions,
    save_journeys,
    save_sessions,
)
from journey_utils.metrics import (
    journey_length,
    journey_lengths,
    page_count,
    page_destinations,
    page_presence,
    page_sequences,
    page_transitions,
)
from journey_utils.preprocess import group_by, preprocess, remove_page_duplicates, remove_pages
from journey_utils.reconcile import ReconciliationError, reconcile
from journey_utils.users import load_user_data, user_table, window_journeys

__version__ = "0.1.0"

# Heavier modules (scipy, plotting, the report builder) load on first use, so that
# `import journey_utils` stays quick for scripts that only need the metrics.
_SUBMODULES = ("claims", "compare", "flows", "inference", "paths", "plots", "report", "summary", "synthetic", "text",
               "users")


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"journey_utils.{name}")
    raise AttributeError(f"module 'journey_utils' has no attribute {name!r}")

#: The project folder (raw -> processed -> reports), for notebooks run from anywhere.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The bundled synthetic sample, the default input everywhere.
SAMPLE_PATH = PROJECT_ROOT / "data" / "sample" / "user_journeys_sample.csv"

__all__ = [
    "JourneyError",
    "JourneyDataError",
    "JourneyDataWarning",
    "load_sessions",
    "load_report",
    "save_journeys",
    "save_sessions",
    "remove_page_duplicates",
    "group_by",
    "remove_pages",
    "preprocess",
    "window_journeys",
    "user_table",
    "load_user_data",
    "reconcile",
    "ReconciliationError",
    "page_count",
    "page_presence",
    "page_destinations",
    "page_transitions",
    "page_sequences",
    "journey_length",
    "journey_lengths",
    "PROJECT_ROOT",
    "SAMPLE_PATH",
]
