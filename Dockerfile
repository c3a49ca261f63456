# Production image: gunicorn for the web, the same image for the Celery worker, beat and migrations.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ROOT=/app/.data/media STATIC_ROOT=/app/.data/staticfiles
WORKDIR /app

# The pinned versions and their hashes (`make lock`): two builds install the same bytes.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY . .
# The user the processes run as owns the directories they write (uploaded attachments; the static files
# are collected at build time). A volume mounted on /app/.data/media starts with this ownership.
RUN useradd --create-home --uid 1000 acolhe \
    && mkdir -p /app/.data/media /app/.data/staticfiles \
    && SECRET_KEY=build-only python manage.py collectstatic --no-input -v 0 \
    && chown -R 1000:1000 /app/.data
USER 1000
EXPOSE 8000
# The health check is the orchestrator's (docker-compose.yml, deploy/k8s/): worker and beat serve no HTTP.
CMD ["gunicorn", "helpdesk.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
