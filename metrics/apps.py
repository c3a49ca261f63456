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

        # Domain signals of the core (tickets never imports metrics): CSAT on solve, erasure, demo data.
        from metrics.demo import on_demo_seeded
        from metrics.services import on_ticket_solved, on_tickets_scrubbed
        from tickets.signals import demo_seeded, ticket_solved, tickets_scrubbed

        ticket_solved.connect(on_ticket_solved, dispatch_uid="acolhe_csat_on_solve")
        tickets_scrubbed.connect(on_tickets_scrubbed, dispatch_uid="acolhe_csat_scrub")
        demo_seeded.connect(on_demo_seeded, dispatch_uid="acolhe_demo_metrics")

        # The dashboards are kept until a rollup runs or a name they show changes (`selectors.dashboard`).
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from metrics.selectors import rollups_changed
        from tickets.models import Queue

        for model in (get_user_model(), Queue):
            name = model.__name__
            post_save.connect(rollups_changed, sender=model, dispatch_uid=f"metrics-rollups-save-{name}")
            post_delete.connect(rollups_changed, sender=model, dispatch_uid=f"metrics-rollups-delete-{name}")
