import os

import pytest
from django.conf import settings
from django.core.cache import cache
from hypothesis import settings as hypothesis_settings

from helpdesk.celery import app as celery_app
from helpdesk.settle import settle

# CI replays the same examples every run (no flaky reds); locally every run explores new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# `make test` runs the suite in several processes (pytest-xdist). Each has its own test database
# (pytest-django suffixes its name with the worker id) but they share one Redis: the database name and the
# worker id go in every cache key and Celery queue the tests use, so that no process (nor a second run on
# the same Redis, nor a development instance) reads another's pages, flags or tasks.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEST_RUN = f"{settings.DATABASES['default']['NAME']}-{XDIST_WORKER}"
CACHE_KEY_PREFIX = f"acolhe-test-{TEST_RUN}"
CELERY_QUEUE = f"acolhe-tests-{TEST_RUN}"


def pytest_configure(config):
    """Django, the apps and the test modules are loaded by now: freeze them out of the garbage collector's
    full walks, as a web or Celery worker does once started (`helpdesk.settle`). The suite's factories and
    requests make many short-lived objects; each full collection walked all of these again. On
    tests/tickets/workspace and tests/metrics in one process: 64 s before, 58 s after."""
    settle(views=False)


@pytest.fixture
def rendered_every_time(settings):
    """Every request renders its page (the short page cache off): for tests of what a page keeps of its parts
    (messages, rows, menus, dashboards) until they change."""
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook-user:hook-password"}
    # Assigned, not changed in place: the change signal makes every thread (a real worker's too) open the
    # cache anew with the test prefix, instead of keeping one opened with the development prefix.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": CACHE_KEY_PREFIX}}
    # Every test client comes from 127.0.0.1: the public pages' rate limit would count the whole suite.
    settings.ACOLHE_CSAT_RATE_PER_MINUTE = 1_000_000
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    # Every factory user and every login hashes a password: PBKDF2's million rounds cost a quarter of a CPU
    # second each, a good part of the suite's time. MD5 hashes the tests' passwords; the production hashers
    # stay listed after it, so a hash they made (a user created before this fixture) still verifies.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    """Tasks run in-process unless a test starts a real worker (see tests/helpdesk/test_celery.py)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    # Keep test tasks away from any development worker, or another test run, on the same Redis.
    celery_app.conf.task_default_queue = CELERY_QUEUE
    yield


@pytest.fixture(autouse=True, scope="session")
def _no_pages_from_an_earlier_run():
    """User ids start again in every new test database: pages another run cached for "user 5" must not be
    served to this run's user 5 (helpdesk/pagecache.py keeps them a few seconds)."""
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=f"{CACHE_KEY_PREFIX}:*pagecache:*", count=1000):
        client.delete(key)


@pytest.fixture(autouse=True)
def _no_inbound_wake_flag(_test_settings):
    """A wake-up flag left up (by a test that replaced the task's `delay`) would keep every later test's
    stored mail from queueing its drain task."""
    from tickets.email.inbound import _wake_key

    cache.delete(_wake_key())
    yield
    cache.delete(_wake_key())


@pytest.fixture(autouse=True)
def _a_new_generation_of_what_pages_keep():
    """Each test's procedures and queue members are new to the cache: a flushed or rolled-back test database
    drops its rows without the signals that would start a new generation (helpdesk/generations.py)."""
    from helpdesk import generations

    generations.forget_all()


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


# Tests that flush the database at their end: those with a live server or a real worker.
FLUSHING_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends by emptying every table, the role groups the migrations made included, so
    a later test in the same process (`seed_demo`, a role check) would find none: put them back after it.
    pytest-django runs transactional tests last, but `--ff`, `--lf` and xdist's grouped scheduling do not."""
    yield
    marker = item.get_closest_marker("django_db")
    flushed = FLUSHING_FIXTURES & set(item.fixturenames) or (
        marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    )
    from django.db import connection

    # Only once the test database is there (a test skipped before it was made would reach the real one).
    if not flushed or not connection.settings_dict["NAME"].startswith("test_"):
        return
    from django.contrib.auth.models import Group
    from pytest_django.plugin import blocking_manager_key

    from tickets.models import Role

    with item.config.stash[blocking_manager_key].unblock():
        for role in Role.values:
            Group.objects.get_or_create(name=role)


# Under `make test` (`--dist loadgroup`) the tests of one group all run in the same process, one after the
# other: a real Celery worker or beat competing with another for the two cores misses its timings, and one
# Chromium serves all the browser tests instead of one per process.
XDIST_GROUPS = {
    "real_worker": "celery-worker",
    "beat": "celery-worker",
    "redis_server": "celery-worker",
    "browser": "browser",
}


# First: pytest-xdist reads the marks in a collection hook of its own (adding `@group` to each test id),
# which would otherwise run before this one and find none, spreading the groups over both processes.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        group = next((XDIST_GROUPS[name] for name in item.fixturenames if name in XDIST_GROUPS), None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
