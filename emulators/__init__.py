"""Local emulators of the payment providers (Stripe, Mercado Pago) for development and tests.

Each emulator is an in-memory HTTP server that speaks the provider's real wire format for the
calls the product makes, hosts a checkout page with pay / decline buttons, and delivers webhooks
signed with the provider's real scheme. Run both with ``python -m emulators``; in tests use
``emulators.testing.running_emulators()``. The control API lives under ``/_emulator/``.
"""
