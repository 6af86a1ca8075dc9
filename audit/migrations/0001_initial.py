# AuditEntry leaves the booking app: its table is renamed, its rows are kept.

import django.utils.timezone
from django.db import migrations, models

RENAME = """
ALTER TABLE booking_auditentry RENAME TO audit_entry;
ALTER INDEX booking_auditentry_pkey RENAME TO audit_entry_pkey;
ALTER SEQUENCE booking_auditentry_id_seq RENAME TO audit_entry_id_seq;
"""
RENAME_BACK = """
ALTER SEQUENCE audit_entry_id_seq RENAME TO booking_auditentry_id_seq;
ALTER INDEX audit_entry_pkey RENAME TO booking_auditentry_pkey;
ALTER TABLE audit_entry RENAME TO booking_auditentry;
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
                    name="AuditEntry",
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
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("actor", models.CharField(max_length=254)),
                        ("action", models.CharField(max_length=64)),
                        ("target", models.CharField(max_length=200)),
                        ("data", models.JSONField(blank=True, default=dict)),
                    ],
                    options={
                        "db_table": "audit_entry",
                        "ordering": ["-at", "-id"],
                        "verbose_name_plural": "audit entries",
                    },
                ),
            ],
        ),
    ]
