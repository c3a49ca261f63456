from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SopConfig(AppConfig):
    name = "sop"
    verbose_name = _("Standard operating procedures")

    def ready(self) -> None:
        from helpdesk.field_labels import translate_field_labels
        from sop.selectors import ticket_page_sop_panel
        from tickets.workspace import panels

        translate_field_labels(self)
        # The SOP panel of the ticket page (tickets does not import sop).
        panels.register("sop_panel", ticket_page_sop_panel)
