import os

import pytest
from django.conf import settings
from django.core.cache import cache
from hypothesis import settings as hypothesis_settings

from helpdesk.celery import app as celery_app

# CI replays the same examples every run (no flaky reds); locally every run explores new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook-user:hook-password"}
    # Assigned, not changed in place: the change signal makes every thread (a real worker's too) open the
    # cache anew with the test prefix, instead of keeping one opened with the development prefix.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": "acolhe-test"}}
    # Every test client comes from 127.0.0.1: the public pages' rate limit would count the whole suite.
    settings.ACOLHE_CSAT_RATE_PER_MINUTE = 1_000_000
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    """Tasks run in-process unless a test starts a real worker (see tests/helpdesk/test_celery.py)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    # Keep test tasks away from any development worker, or another test run, on the same Redis.
    celery_app.conf.task_default_queue = f"acolhe-tests-{settings.DATABASES['default']['NAME']}"
    yield


@pytest.fixture(autouse=True, scope="session")
def _no_pages_from_an_earlier_run():
    """User ids start again in every new test database: pages another run cached for "user 5" must not be
    served to this run's user 5 (helpdesk/pagecache.py keeps them a few seconds)."""
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match="acolhe-test:*pagecache:*", count=1000):
        client.delete(key)


@pytest.fixture(autouse=True)
def _no_inbound_wake_flag(_test_settings):
    """A wake-up flag left up (by a test that replaced the task's `delay`) would keep every later test's
    stored mail from queueing its drain task."""
    from tickets.email.inbound import _wake_key

    cache.delete(_wake_key())
    yield
    cache.delete(_wake_key())


@pytest.fixture
def clear_cache():
    """Forget the cache keys this project wrote. Not `cache.clear()`: that FLUSHDB would also empty the
    Celery queues of a development instance sharing the same Redis."""

    def forget() -> None:
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(match=f"{cache.key_prefix}:*", count=1000):
            client.delete(key)

    forget()
    yield
    forget()
