"""The demo's mailbox: what moto's SES accepted, printed to the terminal and listed on a page."""

import io
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from email.message import EmailMessage

import boto3
import pytest

from emulators.aws import free_port
from emulators.mailbox import print_new, sent_mail, serve


def send(sender: str, subject: str, link: str) -> None:
    message = EmailMessage()
    message["From"] = f"Patagonia Demo Tours <{sender}>"
    message["To"] = "bruno@example.com"
    message["Reply-To"] = "hola@patagonia.example"
    message["Subject"] = subject
    message.set_content(f"Hola Bruno,\n\nNavegación por el Canal Beagle: {link}\n", cte="8bit")
    message.add_alternative(f'<p>Tu reserva: <a href="{link}">ver</a></p>', subtype="html")
    boto3.client("ses").send_raw_email(RawMessage={"Data": message.as_bytes()})


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def sender() -> str:
    address = f"reservas-{secrets.token_hex(4)}@demo.example"
    boto3.client("ses").verify_email_identity(EmailAddress=address)
    return address


@pytest.fixture
def mailbox_url(aws: str):
    port = free_port()
    server = serve(aws, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def test_the_page_lists_what_ses_accepted_and_shows_each_message(aws, sender, mailbox_url):
    subject = f"Tu reserva {secrets.token_hex(3)} está confirmada"
    link = "http://demo.localhost:8000/reservations/ABC123/"
    send(sender, subject, link)
    (mail,) = [m for m in sent_mail(aws) if m.subject == subject]

    status, index = get(f"{mailbox_url}/")
    assert status == 200
    assert f'<a href="/m/{mail.id}">{subject}</a>' in index

    status, shown = get(f"{mailbox_url}/m/{mail.id}")
    assert status == 200
    assert f'<a href="{link}">{link}</a>' in shown  # the text part's link opens the page
    assert "hola@patagonia.example" in shown and "bruno@example.com" in shown
    assert "Navegación por el Canal Beagle" in shown

    status, html_part = get(f"{mailbox_url}/m/{mail.id}/html")
    assert (status, html_part.strip()) == (200, f'<p>Tu reserva: <a href="{link}">ver</a></p>')
    assert get(f"{mailbox_url}/m/no-such-mail")[0] == 404


def test_each_message_is_printed_once(aws, sender):
    seen = {m.id for m in sent_mail(aws)}
    subject = f"Confirmada {secrets.token_hex(3)}"
    send(sender, subject, "http://demo.localhost:8000/reservations/XYZ789/")
    out = io.StringIO()

    print_new(aws, seen, out, "http://localhost:8025/")
    print_new(aws, seen, out, "http://localhost:8025/")

    printed = out.getvalue()
    assert printed.count(f"Subject:  {subject}") == 1
    assert f"From:     Patagonia Demo Tours <{sender}>" in printed
    assert "Reply-To: hola@patagonia.example" in printed
    assert "  Navegación por el Canal Beagle: http://demo.localhost:8000/reservations/XYZ789/" in (
        printed
    )
    assert "http://localhost:8025/m/" in printed


def test_the_process_verifies_the_sender_prints_new_mail_and_stops_on_sigterm(aws, tmp_path):
    sender = f"reservas-{secrets.token_hex(4)}@demo.example"
    port = free_port()
    terminal = tmp_path / "terminal.txt"
    with terminal.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulators.mailbox", "--moto", aws, "--port", str(port)]
            + ["--verify", sender],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/"), process, "the page")
        subject = f"Printed {secrets.token_hex(3)}"
        send(sender, subject, "http://demo.localhost:8000/reservations/P1/")  # verified by it
        wait_until(lambda: f"Subject:  {subject}" in terminal.read_text(), process, "the print")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr


def wait_until(condition, process: subprocess.Popen, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the mailbox exited: {process.stderr.read()}"
        assert time.monotonic() < deadline, f"{what} did not come within {timeout} s"
        time.sleep(0.1)


def answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False
