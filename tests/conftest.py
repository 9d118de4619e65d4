"""Shared fixtures.

The real reference export is never part of the project: tests that need it read it
from ``JOURNEY_REFERENCE_DATA`` (default ``../shared/data/user_journey_raw.csv``
relative to the project root, as is a relative path in the variable) and are skipped,
with the reason, when it is absent.
"""

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DEFAULT = Path("..") / "shared" / "data" / "user_journey_raw.csv"


@pytest.fixture(scope="session")
def reference_path() -> Path:
    """Path of the real reference export; skips the test when it is not available."""
    configured = os.environ.get("JOURNEY_REFERENCE_DATA")
    path = Path(configured) if configured else PROJECT_ROOT / REFERENCE_DEFAULT
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    if not path.is_file():
        source = "JOURNEY_REFERENCE_DATA" if configured else "the default location"
        pytest.skip(f"reference data not found at {path} (from {source}); "
                    "set JOURNEY_REFERENCE_DATA to the export to run the real-data tests")
    return path


@pytest.fixture(scope="session")
def reference_sessions(reference_path):
    """The reference export loaded once by ``load_sessions`` (treat as read-only)."""
    import journey_utils as ju

    return ju.load_sessions(reference_path)


@pytest.fixture(scope="session")
def reference_rows(reference_sessions):
    """The reference sessions as plain ``(user_id, session_id, plan, journey)`` tuples."""
    columns = ["user_id", "session_id", "subscription_type", "user_journey"]
    return [(int(u), int(s), str(p), str(j))
            for u, s, p, j in reference_sessions[columns].itertuples(index=False, name=None)]


@pytest.fixture(scope="session")
def reference_lists(reference_rows):
    """The reference data preprocessed by the plain-Python reference: (plan, pages) per user."""
    from tests import reference as ref

    grouped = ref.preprocess(reference_rows)
    return [(plan, ref.split_journey(journey)) for _, (plan, journey, _) in sorted(grouped.items())]


@pytest.fixture(scope="session")
def reference_journeys(reference_sessions):
    """The reference data preprocessed by the library (all sessions, nothing removed)."""
    import journey_utils as ju

    return ju.preprocess(reference_sessions)
