from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SopConfig(AppConfig):
    name = "sop"
    verbose_name = _("Standard operating procedures")

    def ready(self) -> None:
        from helpdesk.field_labels import translate_field_labels

        translate_field_labels(self)
