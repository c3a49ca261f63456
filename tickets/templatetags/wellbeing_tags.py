from django import template

from tickets.wellbeing.detection import category_labels

register = template.Library()


@register.filter
def sensitivity_labels(categories) -> str:
    """The categories of a flagged ticket in the reader's language, for warnings and masked previews."""
    return category_labels(categories)
