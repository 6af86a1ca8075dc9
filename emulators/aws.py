"""moto's server (a real HTTP server speaking the AWS APIs) for development and tests:
Secrets Manager for configuration and operators' credentials, SES for e-mail, S3 for the
activities' photos."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def aws_environment(endpoint: str) -> dict[str, str]:
    """What points boto3 (and django-ses) at the local server."""
    return DUMMY_CREDENTIALS | {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
        "AWS_ENDPOINT_URL_SES": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_SES_REGION_ENDPOINT_URL": endpoint,
    }


@contextlib.contextmanager
def running_moto(port: int | None = None, log: Path | None = None) -> Iterator[str]:
    """Start moto_server, point this process's environment at it, stop it on exit."""
    port = port or free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = Path(sys.executable).with_name("moto_server")
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=output, stderr=output
    )
    previous = {key: os.environ.get(key) for key in aws_environment(endpoint)}
    try:
        wait_until_up(f"{endpoint}/moto-api/")
        os.environ.update(aws_environment(endpoint))
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
