"""What happens to reservations, told to the apps that follow them (panel sync now, the OCTO
supplier API later) without booking knowing those apps: DESIGN.md, "booking never imports
them".

`reservation_changed` is sent inside the transaction of the change, once the change is written
and while its locks are held. A receiver writes what must follow (its own outbox messages) in
that same transaction, so it is committed with the change or not at all; it does nothing slow
and calls nothing outside the database. A receiver that fails fails the change.

Receivers connect in their app's `ready()`:

    reservation_changed.connect(push_to_panel, dispatch_uid="panel_sync")
"""

from enum import StrEnum

from django.dispatch import Signal


class Change(StrEnum):
    HELD = "held"  # seats taken, the hold running
    PAID = "paid"  # a provider confirmed the payment; the seats are the traveller's
    CANCELLED = "cancelled"  # released: a hold given up, or a paid booking its traveller cancelled
    EXPIRED = "expired"  # released: the hold ran out unpaid
    REFUNDED = "refunded"  # released: the payment was refunded in full
    CHANGED = "changed"  # paid, with new passenger counts or on another departure


# Sent with sender=Reservation and the keywords `reservation` and `change` (a Change).
reservation_changed = Signal()


def tell_reservation_changed(reservation, change: Change) -> None:
    """Called by booking's services only, inside the change's transaction."""
    reservation_changed.send(sender=type(reservation), reservation=reservation, change=change)
