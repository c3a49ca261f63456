from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SopConfig(AppConfig):
    name = "sop"
    verbose_name = _("Standard operating procedures")

    def ready(self) -> None:
        from helpdesk.field_labels import translate_field_labels

        translate_field_labels(self)
        # What sop adds to the core, which never imports it: demo data, the ticket page's SOP panel and
        # the macro reply (see `tickets.extensions`).
        from sop.demo import on_demo_seeded
        from sop.selectors import ticket_page_sop_panel
        from sop.services import reply_with_macro
        from tickets import extensions
        from tickets.signals import demo_seeded

        demo_seeded.connect(on_demo_seeded, dispatch_uid="acolhe_demo_sops")
        extensions.register_ticket_panel("sop_panel", ticket_page_sop_panel)
        extensions.register_macro_reply(reply_with_macro)
