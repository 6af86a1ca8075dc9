"""The transactional outbox (DESIGN.md, invariant 7): a side effect is written as a row in the
same transaction as the change that causes it, and delivered by Huey after the commit, with
retries. Any app above it may emit; each topic has one consumer, registered by the app that
owns it.

`outbox.services.outbox_emit` writes a message; `outbox.delivery` holds the consumers'
registry and `outbox_deliver`; `outbox.tasks` delivers on commit and sweeps what is due every
minute, operator by operator."""
