from django import template

from tickets.wellbeing.detection import CATEGORIES

register = template.Library()


@register.filter
def sensitivity_labels(categories) -> str:
    """The categories of a flagged ticket in the reader's language, for warnings and masked previews."""
    return ", ".join(str(CATEGORIES[c]) for c in categories or () if c in CATEGORIES)
