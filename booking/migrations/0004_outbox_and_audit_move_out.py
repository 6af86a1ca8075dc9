# OutboxMessage and AuditEntry now belong to the outbox and audit apps, whose first
# migrations rename their tables; here they only leave booking's state.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0003_auditentry"),
        ("outbox", "0001_initial"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="OutboxMessage"),
                migrations.DeleteModel(name="AuditEntry"),
            ],
        ),
    ]
