"""``python -m journey_utils.cluster prepare DATA --output DIR``: see :func:`journey_utils.cluster.prepare`."""

import sys

from journey_utils.cluster.prepare import main

sys.exit(main())
