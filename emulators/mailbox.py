"""The demo's sent e-mail, where a newcomer looks for it. The app sends through SES as in
production, here to moto's server; this process asks moto what it accepted
(`GET /moto-api/data.json`), prints each new message to its stdout (the demo's terminal) and
lists them all on a small page. Development only:

    python -m emulators.mailbox --moto http://127.0.0.1:5055 --port 8025 \\
        --verify reservas@andes-booking.example

`--verify` first verifies the sender at moto's SES, as one does once in the AWS console: SES
refuses to send from an address it has not verified.
"""

import argparse
import contextlib
import html
import json
import re
import signal
import sys
import threading
import urllib.request
from dataclasses import dataclass
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

POLL_SECONDS = 1.0
LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class SentMail:
    id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    reply_to: str
    text: str
    html: str


def _from_raw(number: int, record: dict) -> SentMail:
    # moto keeps the bytes it was sent as text (UTF-8): parsed as bytes again, an 8bit part
    # decodes as its charset says.
    message = message_from_bytes(record["raw_data"].encode(), policy=policy.default)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return SentMail(
        id=str(number),
        sender=str(message.get("From", record["source"])).strip(),
        recipients=tuple(dict.fromkeys(record["destinations"])),  # moto lists To twice
        subject=str(message.get("Subject", "")).strip(),
        reply_to=str(message.get("Reply-To", "")).strip(),
        text=text_part.get_content() if text_part else "",
        html=html_part.get_content() if html_part else "",
    )


def _from_simple(number: int, record: dict) -> SentMail:
    recipients = [address for group in record["destinations"].values() for address in group]
    return SentMail(
        id=f"s{number}",
        sender=record["source"],
        recipients=tuple(recipients),
        subject=record["subject"],
        reply_to="",
        text=record["body"],
        html="",
    )


def sent_mail(moto_url: str) -> list[SentMail]:
    """Every message moto's SES accepted, oldest first (raw ones, as django-ses sends them,
    numbered 1, 2, …; simple ones s1, s2, …: moto only ever appends to either list)."""
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json", timeout=5) as response:
        ses = json.load(response).get("ses", {})
    raw = ses.get("RawMessage", [])
    simple = ses.get("Message", [])
    return [_from_raw(n, r) for n, r in enumerate(raw, 1)] + [
        _from_simple(n, r) for n, r in enumerate(simple, 1)
    ]


def verify_sender(moto_url: str, address: str) -> None:
    import boto3

    boto3.client(
        "ses",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="demo",
        aws_secret_access_key="demo",
    ).verify_email_identity(EmailAddress=address)


def as_text(mail: SentMail, page_url: str) -> str:
    """A message as the terminal shows it: its headers, then its plain-text part."""
    lines = [f"── e-mail sent {'─' * 50}", f"From:     {mail.sender}"]
    if mail.reply_to:
        lines.append(f"Reply-To: {mail.reply_to}")
    lines += [f"To:       {', '.join(mail.recipients)}", f"Subject:  {mail.subject}", ""]
    lines += [f"  {line}".rstrip() for line in mail.text.strip().splitlines()]
    lines += ["", f"(this message with its HTML version: {page_url}m/{mail.id})", ""]
    return "\n".join(lines)


def print_new(moto_url: str, seen: set[str], out: TextIO, page_url: str) -> None:
    """Print the messages moto accepted since the last call (whose ids are in `seen`)."""
    for mail in sent_mail(moto_url):
        if mail.id not in seen:
            seen.add(mail.id)
            print(as_text(mail, page_url), file=out, flush=True)


def _linked(text: str) -> str:
    escaped = html.escape(text)
    return LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title><style>
body{{font-family:system-ui,sans-serif;max-width:56rem;margin:1.5rem auto;padding:0 1rem}}
table{{border-collapse:collapse;width:100%}}
td,th{{text-align:left;padding:.35rem;border-bottom:1px solid #ddd}}
pre{{white-space:pre-wrap;background:#f6f7f8;padding:1rem}}dt{{font-weight:600}}
</style></head><body>{body}</body></html>"""


def _index_page(mails: list[SentMail]) -> str:
    rows = "".join(
        f'<tr><td><a href="/m/{html.escape(m.id)}">{html.escape(m.subject) or "(no subject)"}'
        f"</a></td><td>{html.escape(', '.join(m.recipients))}</td>"
        f"<td>{html.escape(m.sender)}</td></tr>"
        for m in reversed(mails)
    )
    body = (
        "<h1>E-mails the demo sent</h1><p>What the app sent through SES (moto's server), "
        "newest first. Refresh after a booking is paid.</p>"
        + (
            f"<table><tr><th>Subject</th><th>To</th><th>From</th></tr>{rows}</table>"
            if mails
            else "<p><strong>Nothing sent yet.</strong></p>"
        )
    )
    return PAGE.format(title="E-mails the demo sent", body=body)


def _message_page(mail: SentMail) -> str:
    headers = [("From", mail.sender), ("Reply-To", mail.reply_to)]
    headers += [("To", ", ".join(mail.recipients)), ("Subject", mail.subject)]
    listed = "".join(
        f"<dt>{name}</dt><dd>{html.escape(value)}</dd>" for name, value in headers if value
    )
    html_link = f'<p><a href="/m/{html.escape(mail.id)}/html">The HTML version</a></p>'
    body = (
        f'<p><a href="/">All e-mails</a></p><h1>{html.escape(mail.subject)}</h1>'
        f"<dl>{listed}</dl><pre>{_linked(mail.text)}</pre>{html_link if mail.html else ''}"
    )
    return PAGE.format(title=html.escape(mail.subject), body=body)


def handler_for(moto_url: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            try:
                mails = sent_mail(moto_url)
            except OSError as exc:
                return self._send(503, f"moto's server did not answer: {exc}", "text/plain")
            path = self.path.split("?", 1)[0].rstrip("/") or "/"
            if path == "/":
                return self._send(200, _index_page(mails))
            by_id = {mail.id: mail for mail in mails}
            match = re.fullmatch(r"/m/([^/]+)(/html)?", path)
            mail = by_id.get(match.group(1)) if match else None
            if mail is None:
                return self._send(404, "No such e-mail.", "text/plain")
            if match.group(2):
                return self._send(200, mail.html or mail.text, "text/html" if mail.html else "")
            return self._send(200, _message_page(mail))

        def _send(self, status: int, text: str, content_type: str = "text/html") -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type or 'text/plain'}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(ConnectionError):  # the browser gave up (a favicon)
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write(f"mailbox {self.address_string()} {format % args}\n")

    return Handler


def serve(moto_url: str, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The page, on a server the caller runs (`serve_forever`) and shuts down."""
    return ThreadingHTTPServer((host, port), handler_for(moto_url))


def watch(moto_url: str, out: TextIO, page_url: str, stop: threading.Event) -> None:
    """Print each new message until `stop` is set; moto not answering is waited out."""
    seen: set[str] = set()
    while not stop.wait(POLL_SECONDS):
        try:
            print_new(moto_url, seen, out, page_url)
        except OSError:
            continue


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulators.mailbox", description=__doc__)
    parser.add_argument("--moto", required=True, help="moto's server, e.g. http://127.0.0.1:5055")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--verify", action="append", default=[], help="a sender to verify")
    options = parser.parse_args(argv)
    for address in options.verify:
        verify_sender(options.moto, address)
    server = serve(options.moto, options.port)
    stop = threading.Event()
    page_url = f"http://localhost:{options.port}/"

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}).start()
    watcher = threading.Thread(target=watch, args=(options.moto, out, page_url, stop))
    watcher.start()
    stop.wait()
    server.shutdown()
    server.server_close()
    watcher.join()


if __name__ == "__main__":
    main()
