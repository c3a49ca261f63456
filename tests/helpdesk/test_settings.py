import json
import os
import subprocess
import sys

import pytest
import sentry_sdk
from django.conf import settings

from helpdesk.settings import _celery_url


def _import_settings(code: str = "import helpdesk.settings", **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"ACOLHE_DEVELOPMENT", "DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "-c", code],
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


def _setting(expression: str, **env) -> str:
    """The value of `expression` in a process started with this environment (Django set up)."""
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = _import_settings(code, DJANGO_SETTINGS_MODULE="helpdesk.settings", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_cookies_are_secure_in_production_unless_explicitly_turned_off():
    assert _setting("settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE", SECRET_KEY="s") == "True True"
    assert _setting("settings.SESSION_COOKIE_SECURE", SECRET_KEY="s", SECURE_COOKIES="false") == "False"


def test_acolhe_development_follows_debug_unless_set():
    assert _setting("settings.DEVELOPMENT", DEBUG="1") == "True"
    assert _setting("settings.DEVELOPMENT", DEBUG="1", ACOLHE_DEVELOPMENT="0", SECRET_KEY="s") == "False"


def test_attachments_go_to_an_s3_compatible_bucket_when_asked():
    code = (
        "from django.core.files.storage import storages; s = storages['default']; "
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.location, s.file_overwrite, s.default_acl)"
    )
    env = {
        "SECRET_KEY": "s",
        "ACOLHE_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": "acolhe-attachments",
        "AWS_S3_ENDPOINT_URL": "http://minio:9000",
    }
    result = _import_settings(
        f"import django; django.setup(); {code}", DJANGO_SETTINGS_MODULE="helpdesk.settings", **env
    )
    assert result.stdout.split() == ["S3Storage", "acolhe-attachments", "http://minio:9000", "media", "False", "None"]
    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"  # unset


def test_an_unknown_storage_or_log_format_is_refused():
    assert "ACOLHE_STORAGE must be" in _import_settings(SECRET_KEY="s", ACOLHE_STORAGE="ftp").stderr
    assert "LOG_FORMAT must be" in _import_settings(SECRET_KEY="s", LOG_FORMAT="xml").stderr


def test_json_logs_are_one_object_per_line_with_the_extra_fields():
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('tickets.email').warning('mail %s failed', 42, extra={'inbound_id': 42})"
    )
    result = _import_settings(code, DJANGO_SETTINGS_MODULE="helpdesk.settings", SECRET_KEY="s", LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "mail 42 failed"
    assert (entry["level"], entry["logger"], entry["inbound_id"]) == ("WARNING", "tickets.email", 42)
    assert entry["time"].endswith("+00:00")


def test_sentry_is_initialised_only_with_a_dsn():
    code = "import django, sentry_sdk; django.setup(); print(sentry_sdk.get_client().is_active())"
    dsn = "https://public@sentry.example/1"
    on = _import_settings(code, DJANGO_SETTINGS_MODULE="helpdesk.settings", SECRET_KEY="s", SENTRY_DSN=dsn)
    assert on.stdout.split()[-1] == "True", on.stderr
    assert not sentry_sdk.get_client().is_active()  # this process: no SENTRY_DSN
