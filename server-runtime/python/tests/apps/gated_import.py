"""The basic app, whose import waits until the file named by SERVER3_TEST_IMPORT_GATE exists (at most 30 s):
a test holds the server in its "starting" state for as long as it needs, without sleeping a fixed time."""

import os
import time

from apps.basic import application  # noqa: F401 - the app this module serves

_gate = os.environ.get("SERVER3_TEST_IMPORT_GATE")
_deadline = time.monotonic() + 30
while _gate and not os.path.exists(_gate) and time.monotonic() < _deadline:
    time.sleep(0.01)
