"""``python -m journey_utils.build``: run, list, index or refresh the reports."""

import sys

from journey_utils.build import main

sys.exit(main())
