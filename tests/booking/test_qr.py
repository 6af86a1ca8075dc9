"""The reservation's code as a QR code on the pages a paid traveller keeps: the confirmation
and the reservation page (the e-mail's: tests/booking/test_emails.py)."""

from booking.models import Reservation
from booking.qr import code_qr_svg
from tests.factories import hold


def test_a_paid_reservation_shows_its_code_as_a_qr_code(alpha_client, make_slot):
    reservation = hold(make_slot(), 1)
    held = alpha_client.get(reservation.get_absolute_url()).content.decode()
    assert "QR code of your booking" not in held  # nothing to show at the pier yet
    Reservation.objects.filter(pk=reservation.pk).update(status="paid", hold_expires_at=None)
    for path in (reservation.get_absolute_url(), f"/reservations/{reservation.code}/confirmed/"):
        page = alpha_client.get(path).content.decode()
        assert 'role="img" aria-label="QR code of your booking"' in page, path
        assert code_qr_svg(reservation.code) in page, path
        assert "<script" not in code_qr_svg(reservation.code)
