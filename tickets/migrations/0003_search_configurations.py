from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations

CONFIGS = {"acolhe_pt": ("portuguese", "portuguese_stem"), "acolhe_en": ("english", "english_stem")}

CREATE = "\n".join(
    f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {parent});\n"
    f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stem};"
    for name, (parent, stem) in CONFIGS.items()
)
DROP = "\n".join(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name};" for name in CONFIGS)


class Migration(migrations.Migration):
    """Full-text search configurations that ignore accents: Portuguese and English stemming after unaccent."""

    dependencies = [("tickets", "0002_roles")]

    operations = [UnaccentExtension(), migrations.RunSQL(CREATE, DROP)]
