"""Template context for every page: the acknowledgement banner."""

from django.utils.functional import SimpleLazyObject

from sop.selectors import pending_acknowledgements as pending_for


def pending_acknowledgements(request) -> dict:
    """Lazy: one query on a page that shows the banner, none for anonymous visitors or pages without it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"pending_acknowledgements": []}
    return {"pending_acknowledgements": SimpleLazyObject(lambda: pending_for(user))}
