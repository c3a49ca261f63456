import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
application = get_wsgi_application()

# Every gunicorn worker imports this module after it forks: load the views and freeze the start-up objects
# out of the garbage collector's full walks (`helpdesk.settle`).
from helpdesk.settle import settle  # noqa: E402

settle()
