from django.db import migrations

TABLES = ("tickets_message", "tickets_ticket")


class Migration(migrations.Migration):
    """A longer list of most common lexemes in the search documents' statistics: without it PostgreSQL
    guesses that a rare word matches 0.5% of all messages and walks the whole table newest-first instead
    of asking the GIN index."""

    dependencies = [('tickets', '0007_workspace_list_indexes')]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE {table} ALTER COLUMN search_document SET STATISTICS 2000" for table in TABLES],
            [f"ALTER TABLE {table} ALTER COLUMN search_document SET STATISTICS -1" for table in TABLES],
        )
    ]
