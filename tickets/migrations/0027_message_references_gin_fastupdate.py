"""The references index written straight into its tree (`fastupdate = off`).

With the default pending list, every new message (with references or without: an empty array is indexed too)
is appended to a list that each lookup reads through in full until a vacuum empties it, and threading looks up
"a stored reply to this mail" for every mail that comes in. On the QUICK bench data set, 600 messages after
its last vacuum made that lookup 1.5 ms of server time (149 pages read) instead of 0.02 ms, most of what the
mail's thread hints cost. A changed storage parameter, no rebuild: the list already pending is moved into the
index now (`gin_clean_pending_list`), which takes as long as a vacuum of the index would.
"""

import django.contrib.postgres.indexes
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0026_sidebar_count_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER INDEX message_references_gin SET (fastupdate = off)",
                    reverse_sql="ALTER INDEX message_references_gin RESET (fastupdate)",
                ),
                migrations.RunSQL(
                    "SELECT gin_clean_pending_list('message_references_gin'::regclass)",
                    reverse_sql=migrations.RunSQL.noop,
                ),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="message", name="message_references_gin"),
                migrations.AddIndex(
                    model_name="message",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fastupdate=False, fields=["references"], name="message_references_gin"
                    ),
                ),
            ],
        ),
    ]
