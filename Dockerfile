# Production image: gunicorn for the web, the same image for Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN pip install --no-deps . \
    && SECRET_KEY=build-only python manage.py collectstatic --no-input -v 0

RUN useradd --create-home --uid 1000 acolhe && mkdir -p /app/.data && chown -R acolhe /app/.data
USER acolhe
EXPOSE 8000
CMD ["gunicorn", "helpdesk.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
