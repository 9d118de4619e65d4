"""The base of every error the package raises on purpose.

``except JourneyError`` catches bad input, a failed reconciliation, a bad
parameters file and a failed report build alike; each subclass also derives
from the built-in error it used to be (``ValueError`` or ``RuntimeError``).

Examples
--------
>>> from journey_utils import JourneyDataError, JourneyError
>>> issubclass(JourneyDataError, JourneyError) and issubclass(JourneyDataError, ValueError)
True
"""


class JourneyError(Exception):
    """An error of journey_utils: the message says what was expected and what was found."""
