"""`python -m emulators` as a process: one log line per request, clean stop on SIGTERM."""

import subprocess
import tempfile

from emulators.testing import control, running_emulators


def test_logs_each_request_and_stops_cleanly_on_sigterm():
    with tempfile.TemporaryFile() as log:
        with running_emulators(stderr=log) as emulators:
            assert control(emulators.stripe_url, "/_emulator/health")["provider"] == "stripe"
            health = control(emulators.mercadopago_url, "/_emulator/health")
            assert health["provider"] == "mercadopago"
            process = emulators.process
        assert process.returncode == 0
        log.seek(0)
        lines = log.read().decode().splitlines()
    assert any(line.startswith("stripe 127.0.0.1 GET /_emulator/health 200") for line in lines)
    assert any(line.startswith("mercadopago 127.0.0.1 GET /_emulator/health") for line in lines)
    assert lines[-1] == "emulators: stopped"
    assert isinstance(process, subprocess.Popen)
