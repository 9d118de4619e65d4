"""The columns of a sessions export and of the journeys made from it, named once.

Examples
--------
>>> from journey_utils import columns
>>> columns.SESSION_COLUMNS
('user_id', 'session_id', 'subscription_type', 'user_journey')
"""

#: One buyer.
USER = "user_id"
#: One visit; grows with time within a user.
SESSION = "session_id"
#: The plan the user bought.
PLAN = "subscription_type"
#: The pages of a session (or of a user's journey) in visit order, joined by SEPARATOR.
TARGET = "user_journey"
#: What joins the pages of a journey.
SEPARATOR = "-"
#: The columns every sessions export has, in this order.
SESSION_COLUMNS = (USER, SESSION, PLAN, TARGET)
