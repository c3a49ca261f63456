"""Portuguese for what the login-lockout package (django-axes) shows in the admin: it ships no pt-BR
catalogue. Its strings are looked up in every catalogue, ours first (`LOCALE_PATHS`), so listing them here
keeps them in `locale/pt_BR/LC_MESSAGES/django.po` through `make messages`. Nothing imports this module."""

from django.utils.translation import gettext_noop as _

AXES_ADMIN = (
    _("Access Attempt"),
    _("Access lock out"),
    _("Attempt Remaining"),
    _("Attempt Time"),
    _("Clean up expired attempts"),
    _("Expires At"),
    _("Failed Logins"),
    _("Form Data"),
    _("GET Data"),
    _("HTTP Accept"),
    _("IP Address"),
    _("Locked Out"),
    _("Logout Time"),
    _("Meta Data"),
    _("Not set"),
    _("POST Data"),
    _("Path"),
    _("Session key hash (sha256)"),
    _("The time when access attempt expires and is no longer valid."),
    _("User Agent"),
    _("access attempt expiration"),
    _("access attempt expirations"),
    _("access attempt"),
    _("access attempts"),
    _("access failure"),
    _("access failures"),
    _("access log"),
    _("access logs"),
)
