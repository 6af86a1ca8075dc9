"""The test suite's settings: the relaxed development settings, opted in to explicitly (the
default is production, which refuses to start without its secrets)."""

import os

os.environ.setdefault("DJANGO_DEVELOPMENT", "1")
# AWS is reached only by tests that start moto; any other call meets a closed port and must
# fail at once, not be tried again (tests/conftest.py, no_aws_unless_asked).
os.environ.setdefault("AWS_MAX_ATTEMPTS", "1")

from project.settings import *  # noqa: E402, F403
