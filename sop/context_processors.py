"""Template context for every page: the acknowledgement banner."""

from django.utils.functional import SimpleLazyObject

from helpdesk.pagecache import per_user
from sop.selectors import pending_acknowledgements as pending_for


def pending_acknowledgements(request) -> dict:
    """Lazy: at most one query on a page that shows the banner (kept a few seconds, see `per_user`), none
    for anonymous visitors or pages without it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"pending_acknowledgements": []}
    return {
        "pending_acknowledgements": SimpleLazyObject(
            lambda: per_user(user, "pending_acknowledgements", lambda: pending_for(user))
        )
    }
