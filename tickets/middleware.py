"""Per-request state of the tickets app."""

from tickets import selectors

# Methods that change nothing (RFC 9110 "safe" methods): the only requests whose answer may reuse what it
# read about who sees what.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ReadingMiddleware:
    """A GET, HEAD or OPTIONS request runs inside `selectors.reading`: each user's access (roles, queues, open
    escalations) is read once for the request and reused by every access check in it, instead of being
    rebuilt into every query as nested subqueries."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        with selectors.reading():
            return self.get_response(request)
