# OutboxMessage leaves the booking app: its table is renamed, its rows are kept.

import django.utils.timezone
from django.db import migrations, models

RENAME = """
ALTER TABLE booking_outboxmessage RENAME TO outbox_message;
ALTER INDEX booking_outboxmessage_pkey RENAME TO outbox_message_pkey;
ALTER SEQUENCE booking_outboxmessage_id_seq RENAME TO outbox_message_id_seq;
"""
RENAME_BACK = """
ALTER SEQUENCE outbox_message_id_seq RENAME TO booking_outboxmessage_id_seq;
ALTER INDEX outbox_message_pkey RENAME TO booking_outboxmessage_pkey;
ALTER TABLE outbox_message RENAME TO booking_outboxmessage;
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("booking", "0003_auditentry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(RENAME, RENAME_BACK)],
            state_operations=[
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("topic", models.CharField(max_length=64)),
                        ("payload", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "available_at",
                            models.DateTimeField(default=django.utils.timezone.now),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("delivered_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "failed_at",
                            models.DateTimeField(
                                blank=True,
                                help_text="Set when retries are exhausted: needs a human.",
                                null=True,
                            ),
                        ),
                        ("last_error", models.TextField(blank=True)),
                    ],
                    options={
                        "db_table": "outbox_message",
                        "ordering": ["id"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(
                                    ("delivered_at__isnull", True), ("failed_at__isnull", True)
                                ),
                                fields=["available_at"],
                                name="outbox_pending_idx",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
