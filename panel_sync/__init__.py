"""Panel sync: one inventory across the operator's own site and its activity panel, spoken to
over OCTO (DESIGN.md, "Panel sync (OCTO)").

Start reading at `services/push_queue.py` and `services/push.py` (our holds, payments and
cancellations told to the panel through the outbox: booking's `reservation_changed` ->
`panel.push` -> `panel_push`) and
`services/pull.py` (the panel's seats, closures, departures, prices and desk bookings pulled
every minute and on its notifications). `octo.py` is the OCTO client, `models.py` the
connection, the mappings and what each side last said.

The panel is the master of what it sold, we are the master of what we sold: the pull sets a
departure's seats taken elsewhere under booking's row lock and never takes back ours; a push
the panel refuses is recorded and raised to staff (`PanelConflict`), never retried as if it
could change its mind.
"""
