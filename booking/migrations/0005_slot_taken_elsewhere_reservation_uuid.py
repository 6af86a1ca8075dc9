import uuid

from django.db import migrations, models


def give_each_reservation_its_uuid(apps, schema_editor):
    Reservation = apps.get_model("booking", "Reservation")
    for reservation in Reservation.objects.filter(uuid__isnull=True).only("pk"):
        reservation.uuid = uuid.uuid4()
        reservation.save(update_fields=["uuid"])


class Migration(migrations.Migration):
    dependencies = [("booking", "0004_outbox_and_audit_move_out")]

    operations = [
        migrations.AddField(
            model_name="slot",
            name="taken_elsewhere",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RemoveConstraint(model_name="slot", name="slot_taken_within_capacity"),
        migrations.AddConstraint(
            model_name="slot",
            constraint=models.CheckConstraint(
                condition=models.Q(taken__gte=0)
                & models.Q(taken_elsewhere__gte=0)
                & models.Q(capacity__gte=models.F("taken") + models.F("taken_elsewhere")),
                name="slot_taken_within_capacity",
            ),
        ),
        # A unique random value per existing row: added empty, filled, then made required.
        migrations.AddField(
            model_name="reservation",
            name="uuid",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(give_each_reservation_its_uuid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="reservation",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
