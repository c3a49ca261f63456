from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Metrics")

    def ready(self) -> None:
        from helpdesk.field_labels import translate_field_labels

        translate_field_labels(self)

        # Every page's navigation: dashboards, QA and one's own scores.
        from helpdesk import pages
        from metrics.selectors import navigation_links

        pages.register("metrics", navigation_links)
