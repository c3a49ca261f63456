import os
import subprocess
import sys

import pytest
from django.conf import settings

from helpdesk.settings import _celery_url


def _import_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"ACOLHE_DEVELOPMENT", "DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "-c", "import helpdesk.settings"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )


def test_production_without_secret_key_refuses_to_start():
    result = _import_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_with_secret_key_starts():
    assert _import_settings(SECRET_KEY="a-real-secret").returncode == 0


def test_sqlite_is_refused():
    result = _import_settings(ACOLHE_DEVELOPMENT="1", DATABASE_URL="sqlite:///tmp.db")
    assert result.returncode != 0
    assert "PostgreSQL only" in result.stderr


@pytest.mark.parametrize(
    ("redis_url", "broker_url"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("unix:///srv/acolhe/.data/redis.sock", "redis+socket:///srv/acolhe/.data/redis.sock"),
    ],
)
def test_celery_broker_follows_redis_url(redis_url, broker_url):
    assert _celery_url(redis_url) == broker_url


def test_settings_come_from_the_environment():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0") == settings.REDIS_URL
    assert settings.CELERY_TASK_ACKS_LATE is True
