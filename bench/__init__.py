"""Benchmarks run by `make bench`, not tests.

These machines have two cores and drift from minute to minute, so a benchmark never compares
against a fixed number: it measures the application and a bare-PostgreSQL baseline in the
same run, against the same database, and reports the ratio. The shared pieces (load
generator, gunicorn, pgbench) live in their own modules so that later benchmarks can reuse
them.
"""
