import pytest
from django.conf import settings
from django.core.cache import cache

from helpdesk.celery import app as celery_app


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook-user:hook-password"}
    settings.CACHES["default"]["KEY_PREFIX"] = "acolhe-test"
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    """Tasks run in-process unless a test starts a real worker (see tests/helpdesk/test_celery.py)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    # Keep test tasks away from any development worker, or another test run, on the same Redis.
    celery_app.conf.task_default_queue = f"acolhe-tests-{settings.DATABASES['default']['NAME']}"
    yield


@pytest.fixture
def clear_cache():
    cache.clear()
    yield
    cache.clear()
