"""``python -m journey_utils.synthetic``: generate an export, or fit a profile to one."""

import sys

from journey_utils.synthetic import main

sys.exit(main())
