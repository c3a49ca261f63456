# Foreign-key indexes that repeat the first column of a composite index are dropped (each index is written
# on every non-HOT update); two mostly-NULL keys get partial indexes instead.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = [
    ("tickets_message_ticket_id_a1134910", "tickets_message", "ticket_id"),
    ("tickets_slaalert_queue_id_bc70f259", "tickets_slaalert", "queue_id"),
    ("tickets_slaalert_ticket_id_a818a1e4", "tickets_slaalert", "ticket_id"),
    ("tickets_ticket_assignee_id_3a5aa407", "tickets_ticket", "assignee_id"),
    ("tickets_ticket_follow_up_of_id_29bc6d56", "tickets_ticket", "follow_up_of_id"),
    ("tickets_ticket_merged_into_id_3a36ad40", "tickets_ticket", "merged_into_id"),
    ("tickets_ticket_queue_id_0d3cb9ef", "tickets_ticket", "queue_id"),
    ("tickets_ticket_requester_id_2072a2f2", "tickets_ticket", "requester_id"),
    ("tickets_ticketevent_actor_id_2a65fff2", "tickets_ticketevent", "actor_id"),
    ("tickets_ticketevent_message_id_51beec1a", "tickets_ticketevent", "message_id"),
    ("tickets_ticketevent_ticket_id_b572d14b", "tickets_ticketevent", "ticket_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0010_wellbeing"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Only the foreign keys' own indexes go: Django's AlterField would also drop and re-add each
        # constraint, re-checking every row of tables with millions of them.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="slaalert",
                    name="queue",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="tickets.queue",
                    ),
                ),
                migrations.AlterField(
                    model_name="slaalert",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sla_alerts",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_tickets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="follow_up_of",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="The closed ticket a user replied to, which opened this one.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="follow_ups",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="merged_into",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="merged",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="queue",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="tickets.queue",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="requester",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="tickets.requester",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticketevent",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="ticket_events",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticketevent",
                    name="message",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="tickets.message",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticketevent",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="tickets.ticket",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"', f'CREATE INDEX "{name}" ON "{table}" ("{column}")')
                for name, table, column in DROPPED
            ],
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", False)), fields=["merged_into"], name="ticket_merged_into"
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("follow_up_of__isnull", False)), fields=["follow_up_of"], name="ticket_follow_up_of"
            ),
        ),
        migrations.AddIndex(
            model_name="ticketevent",
            index=models.Index(
                condition=models.Q(("message__isnull", False)), fields=["message"], name="event_message"
            ),
        ),
    ]
