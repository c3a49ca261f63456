from django.db import migrations

from tickets.migrations._unaccent import CREATE_FUNCTION

# Accents are folded by a plain SQL function rather than the `unaccent` extension, which not every
# PostgreSQL ships (embedded and managed servers often lack contrib). Search documents and queries both
# go through it, so "ação" finds "acao" and the reverse.
CONFIGS = {"acolhe_pt": "portuguese", "acolhe_en": "english"}
CREATE = "\n".join(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {parent});" for name, parent in CONFIGS.items())
DROP = "\n".join(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name};" for name in CONFIGS)


class Migration(migrations.Migration):
    """Full-text search in Portuguese and English that ignores accents."""

    dependencies = [("tickets", "0002_roles")]

    operations = [
        migrations.RunSQL(CREATE_FUNCTION, "DROP FUNCTION IF EXISTS acolhe_unaccent(text);"),
        migrations.RunSQL(CREATE, DROP),
    ]
