"""Acolhe settings: everything comes from the environment, with safe development defaults."""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Production is anything that is not explicitly development: missing secrets fail hard there.
DEVELOPMENT = env.bool("ACOLHE_DEVELOPMENT", default=DEBUG)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured("SECRET_KEY must be set outside development (ACOLHE_DEVELOPMENT=1)")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "anymail",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "tickets",
    "accounts",
    "sop",
    "metrics",
]

MIDDLEWARE = [
    # First: probes and scrapes call the container's own address, which ALLOWED_HOSTS does not list, and
    # `/healthz` answers before anything reads the session or the user.
    "helpdesk.health.ProbeMiddleware",
    "helpdesk.prometheus.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tickets.middleware.ReadingMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    # After the user and language are known, so its 400 page is rendered for them.
    "helpdesk.bad_input.RejectNulCharactersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "helpdesk.pagecache.WriteGenerationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    # Plain-text mail (`templates/**/email/*.txt`): rendered without HTML escaping, so a name like
    # O'Brien goes out as written, not as `O&#x27;Brien`. See `tickets.email.outbound.render_text_mail`.
    {
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# PostgreSQL always (one code path): `make run`/`make test` provide an embedded one when unset.
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/acolhe")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction mode a cursor cannot outlive its transaction (docs/deploy.md).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False)
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("Acolhe runs on PostgreSQL only: DATABASE_URL must be postgres://...")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        # Django's Redis cache, missing instead of failing while Redis is away (helpdesk/cache.py).
        "BACKEND": "helpdesk.cache.TolerantRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="acolhe"),
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
    }
}
# Sessions are written to the database and read from the cache when it answers: signed-in pages keep
# working while Redis is away.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def _celery_url(url: str) -> str:
    # kombu names a Redis Unix socket `redis+socket://`; redis-py names it `unix://`.
    return "redis+socket://" + url.removeprefix("unix://") if url.startswith("unix://") else url


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_celery_url(REDIS_URL))
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose worker died (acks_late) is delivered again after the visibility timeout. It must outlast the
# longest retry countdown plus a task's hard time limit (tickets/tasks.py: 240 s + 120 s), or a task waiting
# for its countdown would be handed to a second worker; anything shorter than an hour still brings a lost task
# back within minutes, and the database sweeps below re-drive lost work sooner. A short one (the fault
# tests) needs frequent sweeps of the unacknowledged set.
_VISIBILITY_TIMEOUT = env.int("ACOLHE_BROKER_VISIBILITY_TIMEOUT", default=420)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    # A broker that does not answer is noticed in seconds, by publishers and by the worker.
    "socket_connect_timeout": 2,
    "health_check_interval": 5,
    **({"unacked_restore_interval": 1, "unacked_restore_throttle": 1} if _VISIBILITY_TIMEOUT < 60 else {}),
}
# Publishing while the broker is down gives up within about a second: the row is already committed and the
# sweeps below pick it up, so a web request never hangs on the broker.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# The worker's consumer reconnects every second while the broker is away (helpdesk/celery.py).
CELERY_WORKER_CONSUMER = "helpdesk.celery:QuickReconnectConsumer"
# How often beat's sweeps look for work a lost task left behind, and how old that work must be.
ACOLHE_SWEEP_SECONDS = env.int("ACOLHE_SWEEP_SECONDS", default=15)
CELERY_TIMEZONE = "UTC"
# One broker can serve several deployments (or a benchmark) when each names its own queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("ACOLHE_CELERY_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE: dict = {
    # Records SLA warnings and breaches; a run that waited past the next one is dropped (the next catches up).
    "sla-sweep": {"task": "tickets.tasks.sla_sweep", "schedule": 60.0, "options": {"expires": 55}},
    # Metric rollups: today (and the days its reopens changed) every 5 minutes; yesterday whole just after
    # midnight in São Paulo (03:15 UTC); the QA sample on Monday mornings.
    "metrics-rollup-today": {"task": "metrics.tasks.rollup_today", "schedule": 300.0, "options": {"expires": 290}},
    "metrics-rollup-yesterday": {
        "task": "metrics.tasks.rollup_yesterday",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 3600},
    },
    # Outbox: re-send what a lost task or a worker killed mid-send left behind.
    "outbox-requeue-stale": {
        "task": "tickets.tasks.requeue_stale_outbound",
        "schedule": float(ACOLHE_SWEEP_SECONDS),
        "options": {"expires": max(ACOLHE_SWEEP_SECONDS - 2, 1)},
    },
    # Mail in: stored mail that no drain is working on (its wake-up was lost while the broker was down, or
    # the worker running its drain died).
    "inbound-requeue-stale": {
        "task": "tickets.tasks.requeue_stale_inbound",
        "schedule": float(ACOLHE_SWEEP_SECONDS),
        "options": {"expires": max(ACOLHE_SWEEP_SECONDS - 2, 1)},
    },
    # Privacy: closed tickets past their queue's retention period, at 04:30 UTC.
    "privacy-retention": {"task": "tickets.tasks.enforce_retention", "schedule": crontab(hour=4, minute=30)},
    "metrics-qa-sample": {
        "task": "metrics.tasks.sample_weekly_qa",
        "schedule": crontab(hour=6, minute=0, day_of_week=1),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username/address pair before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
OTP_TOTP_ISSUER = "Acolhe"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Portuguese (Brazil)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".data" / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
# Attachments: on local disk under MEDIA_ROOT (one volume every web and worker process mounts), or with
# ACOLHE_STORAGE=s3 in an S3-compatible bucket through django-storages. Credentials come the way boto3
# finds them (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the machine's role); the bucket stays private:
# files are served by the ticket views after their access check, never by bucket URLs.
ACOLHE_STORAGE = env.str("ACOLHE_STORAGE", default="filesystem")
if ACOLHE_STORAGE == "filesystem":
    _DEFAULT_STORAGE: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif ACOLHE_STORAGE == "s3":
    _DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "location": env.str("AWS_S3_LOCATION", default="media"),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    raise ImproperlyConfigured("ACOLHE_STORAGE must be 'filesystem' or 's3'")
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The browsable API shows the translated description the schema declares (helpdesk/api_docs.py).
    "VIEW_DESCRIPTION_FUNCTION": "helpdesk.api_docs.view_description",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "helpdesk.pagination.NewestFirstCursorPagination",
    # A Django ValidationError raised by a service answers 400, as a serializer's does.
    "EXCEPTION_HANDLER": "helpdesk.errors.exception_handler",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("ACOLHE_API_ANON_RATE", default="60/minute"),
        "user": env.str("ACOLHE_API_USER_RATE", default="1200/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Acolhe API",
    "DESCRIPTION": _("The Acolhe helpdesk: tickets, queues, messages, SOPs and metrics."),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# Mail. Anymail sends through the ESP whose backend EMAIL_BACKEND names; development prints to the console.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Where the file-based backend keeps mail (`make run` uses it: demo mail is stored, not printed).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / ".data" / "sent-mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="suporte@acolhe.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    key: value
    for key, value in {
        "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
        "MAILGUN_API_KEY": env.str("MAILGUN_API_KEY", default=""),
        "MAILGUN_SENDER_DOMAIN": env.str("MAILGUN_SENDER_DOMAIN", default=""),
        "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
        "POSTMARK_SERVER_TOKEN": env.str("POSTMARK_SERVER_TOKEN", default=""),
        "SENDGRID_API_KEY": env.str("SENDGRID_API_KEY", default=""),
        "AMAZON_SES_CLIENT_PARAMS": {"region_name": env.str("AWS_REGION", default="us-east-1")},
        # (connect, read) seconds for an ESP's API: a send gives up well inside its task's time limit.
        "REQUESTS_TIMEOUT": (5, 15),
    }.items()
    if value
}
# Inbound webhooks switched on per ESP.
ACOLHE_INBOUND_ESPS = env.list("ACOLHE_INBOUND_ESPS", default=[])
# Time limits of mail in. Per mail: one that takes longer to apply is marked failed with the reason (its raw
# bytes kept) and the drain goes on. Per inbound task (Celery): the soft limit stops the mail being applied
# the same way; the hard limit kills the worker process (for a mail stuck in C code the soft one cannot
# interrupt). The longest retry countdown (240 s) plus the hard limit stays inside
# ACOLHE_BROKER_VISIBILITY_TIMEOUT (420 s), so a task lost with its worker is redelivered within minutes.
ACOLHE_INBOUND_MAIL_SECONDS = env.float("ACOLHE_INBOUND_MAIL_SECONDS", default=30.0)
ACOLHE_INBOUND_TASK_SOFT_SECONDS = env.int("ACOLHE_INBOUND_TASK_SOFT_SECONDS", default=90)
ACOLHE_INBOUND_TASK_HARD_SECONDS = env.int("ACOLHE_INBOUND_TASK_HARD_SECONDS", default=120)
# Amazon SES (SNS) posts are accepted only from these topic ARNs; empty accepts any topic whose message
# carries a valid SNS signature.
ACOLHE_SES_TOPIC_ARNS = env.list("ACOLHE_SES_TOPIC_ARNS", default=[])
# The largest attachment kept: a larger inbound one is replaced by a note (the mail itself is kept whole), a
# larger upload with a reply is refused.
ACOLHE_MAX_ATTACHMENT_BYTES = env.int("ACOLHE_MAX_ATTACHMENT_BYTES", default=25 * 1024 * 1024)
# Ask requesters to rate solved tickets (a signed link in the solved-ticket email).
ACOLHE_CSAT_ENABLED = env.bool("ACOLHE_CSAT_ENABLED", default=True)
# How long the survey link in that email stays valid, and how long after answering the requester may change
# the rating (metrics/services/csat.py).
ACOLHE_CSAT_LINK_DAYS = env.int("ACOLHE_CSAT_LINK_DAYS", default=30)
ACOLHE_CSAT_CHANGE_DAYS = env.int("ACOLHE_CSAT_CHANGE_DAYS", default=7)
ACOLHE_AUTO_ACK_INTERVAL_SECONDS = env.int("ACOLHE_AUTO_ACK_INTERVAL_SECONDS", default=3600)
# Associate wellbeing (tickets/wellbeing): the classifier that scans inbound mail, the per-shift exposure
# budget of sensitive tickets, the streak after which the workspace suggests a break, and the queue that
# child-safety tickets are escalated to.
ACOLHE_SENSITIVITY_CLASSIFIER = env.str(
    "ACOLHE_SENSITIVITY_CLASSIFIER", default="tickets.wellbeing.model.LearnedClassifier"
)
ACOLHE_EXPOSURE_BUDGET = env.int("ACOLHE_EXPOSURE_BUDGET", default=8)
ACOLHE_SHIFT_HOURS = env.int("ACOLHE_SHIFT_HOURS", default=8)
ACOLHE_BREAK_AFTER = env.int("ACOLHE_BREAK_AFTER", default=3)
# Exposure in time, measured from the ticket page's heartbeats: the shift's cap in minutes and the break
# prompt after each so many minutes (a team's wellbeing policy may set its own). The defaults follow the
# Internet Watch Foundation's practice for its analysts: hourly breaks, at most five hours a day.
ACOLHE_EXPOSURE_MINUTES = env.int("ACOLHE_EXPOSURE_MINUTES", default=300)
ACOLHE_BREAK_EVERY_MINUTES = env.int("ACOLHE_BREAK_EVERY_MINUTES", default=60)
ACOLHE_TRUST_SAFETY_QUEUE = env.str("ACOLHE_TRUST_SAFETY_QUEUE", default="trust-safety")
# An escalation's own target when the target queue has no resolution target for the ticket's priority:
# this many minutes around the clock (tickets/sla/clocks.py).
ACOLHE_ESCALATION_TARGET_MINUTES = env.int("ACOLHE_ESCALATION_TARGET_MINUTES", default=24 * 60)
# Roles (group names) whose members must sign in with a second factor: until they enrol, a session of
# theirs reaches only the enrolment page. Admins outside development.
ACOLHE_TWO_FACTOR_REQUIRED_ROLES = env.list(
    "ACOLHE_TWO_FACTOR_REQUIRED_ROLES", default=[] if DEVELOPMENT else ["admin"]
)
# Ticket lists, search and the dashboard are kept this many seconds per user (helpdesk/pagecache.py); a
# user's own writes always show at once. 0 turns the cache off.
ACOLHE_PAGE_CACHE_SECONDS = env.int("ACOLHE_PAGE_CACHE_SECONDS", default=10)
# Assist (assist/): an OpenAI-compatible chat completions endpoint (Ollama, vLLM, llama.cpp's server
# or a hosted API), e.g. http://127.0.0.1:11434/v1/chat/completions, its model and key. Empty: generative help
# is off; each queue must also opt in. Suggestions from similar solved tickets need none of this.
ACOLHE_ASSIST_URL = env.str("ACOLHE_ASSIST_URL", default="")
ACOLHE_ASSIST_MODEL = env.str("ACOLHE_ASSIST_MODEL", default="")
ACOLHE_ASSIST_KEY = env.str("ACOLHE_ASSIST_KEY", default="")
ACOLHE_ASSIST_TIMEOUT_SECONDS = env.int("ACOLHE_ASSIST_TIMEOUT_SECONDS", default=20)
# `make bench` only: serve the baseline view (helpdesk/baseline.py) the page throughputs are compared to.
ACOLHE_BENCH_BASELINE = env.bool("ACOLHE_BENCH_BASELINE", default=False)
# Raw inbound mail bigger than this is refused by the webhook with 413 (the ESP keeps it and retries).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=60 * 1024 * 1024)

# Production hardening behind TLS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEVELOPMENT)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEVELOPMENT else 31536000)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere: every page loads its JS and CSS from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The public CSAT page: requests per client address per minute.
ACOLHE_CSAT_RATE_PER_MINUTE = env.int("ACOLHE_CSAT_RATE_PER_MINUTE", default=30)

# Prometheus metrics at /metrics (helpdesk/prometheus.py); with a token, scrapes must send it as a bearer.
ACOLHE_PROMETHEUS_ENABLED = env.bool("ACOLHE_PROMETHEUS_ENABLED", default=False)
ACOLHE_PROMETHEUS_TOKEN = env.str("ACOLHE_PROMETHEUS_TOKEN", default="")

# Logs on standard error: plain lines, or one JSON object per line (LOG_FORMAT=json) for a log pipeline.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "helpdesk.logs.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", **({"formatter": "json"} if LOG_FORMAT == "json" else {})}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Errors to Sentry when a DSN is set (web and workers); no personal data is sent with them.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
