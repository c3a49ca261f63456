"""Message.search_excerpt: the bounded opening of a long body, for search snippets.

Cheap on a large table: the column is nullable without a default (a catalogue change, no rewrite), and its
constraint is added NOT VALID (a brief lock; every later write is checked) and then validated in a
transaction of its own, which scans the table without blocking reads or writes (every row is null there,
so only the heap is read). Existing long bodies get their excerpt from `manage.py fill_search_excerpts`, in
batches; until then search cuts their snippet from the body itself, as before.
"""

import django.db.models.functions.text
from django.db import migrations, models

CONSTRAINT = "message_search_excerpt_in_step"


class Migration(migrations.Migration):
    atomic = False  # the validation must not hold the lock the constraint was added under

    dependencies = [
        ("tickets", "0024_attachment_omitted_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="search_excerpt",
            field=models.TextField(blank=True, editable=False, null=True),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(
                    model_name="message",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("search_excerpt__isnull", True),
                            ("search_excerpt", django.db.models.functions.text.Left("body_text", 4000)),
                            _connector="OR",
                        ),
                        name=CONSTRAINT,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"ALTER TABLE tickets_message ADD CONSTRAINT {CONSTRAINT} CHECK "
                    f'("search_excerpt" IS NULL OR "search_excerpt" = LEFT("body_text", 4000)) NOT VALID',
                    f"ALTER TABLE tickets_message DROP CONSTRAINT {CONSTRAINT}",
                ),
                migrations.RunSQL(
                    f"ALTER TABLE tickets_message VALIDATE CONSTRAINT {CONSTRAINT}", migrations.RunSQL.noop
                ),
            ],
        ),
    ]
