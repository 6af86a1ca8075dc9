"""Activities, rates, departures (slots), reservations and their seats, in each operator's
schema; the traveller's catalogue, booking and reservation pages.

Start with `services` (hold, cancel, expire, confirm a payment, refund: every change of seats,
under the slot's row lock) and `models`; `catalogue` holds the staff's writes to activities,
rates and departures; `views` the traveller's pages; `extensions` the panels other apps add
to those pages. Booking imports neither payments nor the apps above it: DESIGN.md."""
