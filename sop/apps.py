from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SopConfig(AppConfig):
    name = "sop"
    verbose_name = _("Standard operating procedures")

    def ready(self) -> None:
        from helpdesk import pages
        from helpdesk.field_labels import translate_field_labels
        from sop import signals
        from sop.selectors import acknowledgements_to_show, ticket_page_sop_panel
        from tickets.workspace import panels

        translate_field_labels(self)
        # The SOP panel of the ticket page (tickets does not import sop), and the must-read banner of every page.
        panels.register("sop_panel", ticket_page_sop_panel)
        # What the ticket pages keep of the procedures is dropped when one changes.
        signals.connect()
        pages.register("pending_acknowledgements", acknowledgements_to_show)
        # What sop adds to the core's actions, which never imports it: demo data and the macro reply (see
        # `tickets.extensions`).
        from sop.demo import on_demo_seeded
        from sop.services import reply_with_macro
        from tickets import extensions
        from tickets.signals import demo_seeded

        demo_seeded.connect(on_demo_seeded, dispatch_uid="acolhe_demo_sops")
        extensions.register_macro_reply(reply_with_macro)
