"""The demo of `make demo` and the browser tests: demo operators, their catalogue and staff.

Development only: installed when the relaxed development settings are in use, and never
packaged into the production wheel. It may import `emulators` (the demo staff sign in at the
development OIDC provider)."""
