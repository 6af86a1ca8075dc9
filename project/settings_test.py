"""The test suite's settings: the relaxed development settings, opted in to explicitly (the
default is production, which refuses to start without its secrets)."""

import os

os.environ.setdefault("DJANGO_DEVELOPMENT", "1")

from project.settings import *  # noqa: E402, F403
