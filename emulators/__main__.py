"""Run both emulators in one process: `python -m emulators --stripe-port 12111 ...`.

Two listeners on threads; one line per request on stderr; SIGTERM / SIGINT stop cleanly.
"""

import argparse
import signal
import sys
import threading

from emulators.mercadopago import MercadoPagoEmulator
from emulators.server import EmulatorServer, start_ticker
from emulators.stripe import StripeEmulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--stripe-port", type=int, default=12111)
    parser.add_argument("--mercadopago-port", type=int, default=12112)
    parser.add_argument(
        "--stripe-public-url",
        help="base URL browsers use to reach the Stripe emulator (default: the API's Host)",
    )
    parser.add_argument(
        "--mercadopago-public-url",
        help="base URL browsers use to reach the Mercado Pago emulator (default: the API's Host)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    apps = [
        (StripeEmulator(args.stripe_public_url), args.stripe_port),
        (MercadoPagoEmulator(args.mercadopago_public_url), args.mercadopago_port),
    ]
    servers = [EmulatorServer(app, args.host, port) for app, port in apps]
    stop = threading.Event()
    for server in servers:
        serve = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=server.app.name
        )
        serve.daemon = True
        serve.start()
    start_ticker([server.app for server in servers], stop)

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    urls = ", ".join(f"{server.app.name} on {server.url}" for server in servers)
    print(f"emulators: {urls}", file=sys.stderr, flush=True)
    stop.wait()
    for server in servers:
        server.shutdown()
        server.server_close()
    print("emulators: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
