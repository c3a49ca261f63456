"""A long-lived process's start (a web worker, a Celery worker): what the first requests would load lazily is
loaded now, then the garbage collector is told that all of it lives for good.

Django's request cycle makes many short-lived objects, so the collector runs often, and about every hundredth
of its rounds is a full one that walks every object the process holds: some 150,000 once Django, the apps and
their URL patterns are loaded. The request that sets it off waits for the walk, tens of milliseconds on a
busy machine, which lands in the slowest twentieth of the pages (their p95). `gc.freeze()` moves every object
alive now into a generation that no collection walks, so a full collection walks only what was made since.
Cycles among the frozen objects are never collected, which is right for modules, classes, settings and URL
patterns, kept until the process exits anyway.

Work that builds up many objects at once is not slowed by it: the hostile mails of
`tests/fixtures/mail/hostile.py` took the same CPU time with and without the freeze, within this machine's
noise (best of five runs: "nested-divs" 0.47 to 0.68 s either way).

In process on the workspace bench's QUICK data set, the 200-message ticket page spent 6 ms a request on
average in full collections before, and none after (`gc.callbacks`).
"""

from __future__ import annotations

import gc


def settle(*, views: bool = True) -> None:
    """Load the URL patterns (every view module with them; `views=False` for a process that serves no
    pages) and freeze what the process holds. Safe to call more than once: each call freezes what was made
    since the last."""
    if views:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - imports every view module the first request would
    gc.collect()
    gc.freeze()
