from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from helpdesk.field_labels import translate_field_labels

        translate_field_labels(self)
        # Anymail announces inbound mail by signal: the one place where we listen to one.
        from anymail.signals import inbound

        from tickets.email.inbound import on_inbound

        inbound.connect(on_inbound, dispatch_uid="acolhe_inbound")

        from anymail.signals import tracking

        from tickets.email.tracking import on_tracking

        tracking.connect(on_tracking, dispatch_uid="acolhe_tracking")

        # Every page's navigation: SLA health, escalations waiting, unread notices.
        from helpdesk import pages
        from tickets.selectors import navigation_counts

        pages.register("sla", navigation_counts)

        # The assignee menus keep the people of each set of queues until an account or a queue's members
        # change (`tickets.workspace.selectors.queue_members`).
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from tickets.models import Queue, SavedView
        from tickets.workspace.selectors import people_changed, queues_changed, saved_views_changed

        user = get_user_model()
        post_save.connect(people_changed, sender=user, dispatch_uid="queue-people-user-saved")
        post_delete.connect(people_changed, sender=user, dispatch_uid="queue-people-user-deleted")
        m2m_changed.connect(people_changed, sender=Queue.members.through, dispatch_uid="queue-people-members")
        # The queues' names in the sidebar and the move menus are kept until a queue changes
        # (`tickets.workspace.selectors.movable_queues`).
        post_save.connect(queues_changed, sender=Queue, dispatch_uid="queue-names-saved")
        post_delete.connect(queues_changed, sender=Queue, dispatch_uid="queue-names-deleted")
        # A person's saved views in the sidebar are kept until one is saved or deleted.
        post_save.connect(saved_views_changed, sender=SavedView, dispatch_uid="saved-views-saved")
        post_delete.connect(saved_views_changed, sender=SavedView, dispatch_uid="saved-views-deleted")
