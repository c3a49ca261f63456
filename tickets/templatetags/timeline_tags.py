from django import template

from tickets.workspace import timeline

register = template.Library()


@register.filter
def event_sentence(event):
    """A timeline event as a sentence in the reader's language (see `tickets.workspace.timeline`)."""
    return timeline.sentence(event)
