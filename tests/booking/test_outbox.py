"""The outbox: written with the change, delivered after commit, retried with backoff."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from outbox import delivery as outbox
from outbox.delivery import MAX_ATTEMPTS, outbox_deliver, retry_delay
from outbox.models import OutboxMessage
from outbox.services import outbox_emit
from tests.factories import hold


@pytest.fixture
def flaky_consumer():
    calls = []

    def consume(message):
        calls.append(message.pk)
        if len(calls) < 3:
            raise ConnectionError("SES is down")

    outbox._consumers["test.flaky"] = consume
    yield calls
    del outbox._consumers["test.flaky"]


def test_a_failing_consumer_is_retried_with_backoff_then_delivered(db, alpha, flaky_consumer):
    message = OutboxMessage.objects.create(topic="test.flaky")
    now = timezone.now()

    assert outbox_deliver(message_id=message.pk, now=now) is False
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.available_at == now + timedelta(seconds=30)
    assert "ConnectionError: SES is down" in message.last_error
    assert list(OutboxMessage.objects.due(now)) == []
    assert outbox_deliver(message_id=message.pk, now=now) is False  # not due yet
    assert len(flaky_consumer) == 1

    later = now + timedelta(seconds=30)
    assert list(OutboxMessage.objects.due(later)) == [message]
    assert outbox_deliver(message_id=message.pk, now=later) is False
    message.refresh_from_db()
    assert message.available_at == later + timedelta(minutes=1)

    latest = later + timedelta(minutes=1)
    assert outbox_deliver(message_id=message.pk, now=latest) is True
    message.refresh_from_db()
    assert message.delivered_at == latest and message.attempts == 3
    assert outbox_deliver(message_id=message.pk, now=latest) is False  # never twice


def test_a_message_that_keeps_failing_is_set_aside_for_a_human(db, alpha):
    outbox._consumers["test.broken"] = lambda message: 1 / 0
    try:
        message = OutboxMessage.objects.create(topic="test.broken")
        now = timezone.now()
        for _ in range(MAX_ATTEMPTS):
            outbox_deliver(message_id=message.pk, now=now)
            now += timedelta(hours=2)
        message.refresh_from_db()
        assert message.failed_at is not None
        assert message.attempts == MAX_ATTEMPTS
        assert list(OutboxMessage.objects.due(now)) == []
    finally:
        del outbox._consumers["test.broken"]


def test_retry_delay_grows_and_is_capped():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_emitting_to_an_unknown_topic_fails_loudly(db, alpha):
    with pytest.raises(ValueError, match="no consumer"):
        outbox_emit(topic="nobody.listens", payload={})


@pytest.mark.parametrize(
    ("language", "subject", "phrase"),
    [
        ("en", "is confirmed", "Your payment was received"),
        ("es", "está confirmada", "Recibimos tu pago"),
        ("pt-br", "está confirmada", "Recebemos seu pagamento"),
    ],
)
def test_the_confirmation_email_speaks_the_travellers_language(
    make_slot, language, subject, phrase
):
    reservation = hold(make_slot(), 2)
    reservation.language = language
    reservation.save()
    message = OutboxMessage.objects.create(
        topic="email.reservation_confirmed", payload={"reservation_id": reservation.pk}
    )
    mail.outbox.clear()
    assert outbox_deliver(message_id=message.pk) is True
    (email,) = mail.outbox
    assert subject in email.subject and reservation.code in email.subject
    assert phrase in email.body
    local_start = timezone.localtime(reservation.slot.starts_at, alpha_zone())
    assert local_start.strftime("%H:%M") in email.body
    assert "20.000,00" in email.body or "20,000.00" in email.body
    assert reservation.events.filter(kind="email_sent").count() == 1


def alpha_zone():
    import zoneinfo

    return zoneinfo.ZoneInfo("America/Argentina/Ushuaia")


def test_the_confirmation_is_not_sent_twice_for_one_message(make_slot):
    reservation = hold(make_slot(), 1)
    message = OutboxMessage.objects.create(
        topic="email.reservation_confirmed", payload={"reservation_id": reservation.pk}
    )
    mail.outbox.clear()
    outbox._consumers["email.reservation_confirmed"](message)
    outbox._consumers["email.reservation_confirmed"](message)
    assert len(mail.outbox) == 1
