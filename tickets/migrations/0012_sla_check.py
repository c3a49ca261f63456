# The SLA sweep's next check moves from the ticket row to a narrow table of its own: the sweep moves it every
# time it looks at a ticket, and on the wide ticket row every such move wrote an entry in each of its indexes.
# Existing times are copied over in one statement; the index is built once they are in.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0011_fewer_write_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="SlaCheck",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="sla_check",
                        serialize=False,
                        to="tickets.ticket",
                    ),
                ),
                ("next_check_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "SLA check",
                "verbose_name_plural": "SLA checks",
            },
        ),
        migrations.RunSQL(
            "INSERT INTO tickets_slacheck (ticket_id, next_check_at) "
            "SELECT id, sla_next_check_at FROM tickets_ticket WHERE sla_next_check_at IS NOT NULL",
            # Backwards the column is back (empty) before this runs: fill it from the checks.
            "UPDATE tickets_ticket AS t SET sla_next_check_at = c.next_check_at "
            "FROM tickets_slacheck AS c WHERE c.ticket_id = t.id",
        ),
        migrations.AddIndex(
            model_name="slacheck",
            index=models.Index(fields=["next_check_at"], name="sla_check_next"),
        ),
        migrations.RemoveIndex(
            model_name="ticket",
            name="ticket_sla_next_check",
        ),
        migrations.RemoveField(
            model_name="ticket",
            name="sla_next_check_at",
        ),
    ]
