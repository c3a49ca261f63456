import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# One broker can serve several deployments (or a benchmark) when each names its own queue.
app.conf.task_default_queue = os.environ.get("ACOLHE_CELERY_QUEUE", "celery")
