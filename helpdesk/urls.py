from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from helpdesk.health import healthz

# The admin speaks of Acolhe, not of the framework it runs on.
admin.site.site_header = _("Acolhe administration")
admin.site.site_title = _("Acolhe administration")
admin.site.index_title = _("Data and settings")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that do not name an icon (the admin, the API docs).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True), name="favicon"),
    path("admin/", admin.site.urls),
    path("anymail/", include("tickets.email.webhook_urls")),
    path("api/v1/", include("helpdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script is served as a file (no inline script); ReDoc styles itself inline.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
    path("", include("accounts.urls")),
    path("", include("tickets.urls")),
    path("", include("assist.urls")),
    path("sop/", include("sop.urls")),
    path("metrics/", include("metrics.urls")),
]

if settings.ACOLHE_BENCH_BASELINE:
    from helpdesk.baseline import baseline

    urlpatterns.append(path("bench/baseline/", baseline, name="bench_baseline"))

# Uploaded files are never served from MEDIA_URL, not even under DEBUG: attachments go through the
# access-checked `attachment` view only.

handler400 = "helpdesk.bad_input.bad_request"
