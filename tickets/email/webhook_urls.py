"""Anymail webhooks, each ESP switched on by `ACOLHE_INBOUND_ESPS`, all failing closed without a secret."""

from functools import wraps

from anymail.utils import get_anymail_setting
from django.conf import settings
from django.http import HttpResponseForbidden
from django.urls import path, re_path
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from tickets.email.webhooks import (
    AmazonSESHardenedTrackingView,
    AmazonSESRawInboundView,
    MailgunHardenedTrackingView,
    MailgunRawInboundView,
    PostmarkHardenedTrackingView,
    PostmarkRawInboundView,
    SendGridHardenedTrackingView,
    SendGridRawInboundView,
)

ESPS: dict[str, tuple[type[View], type[View]]] = {
    "mailgun": (MailgunRawInboundView, MailgunHardenedTrackingView),
    "postmark": (PostmarkRawInboundView, PostmarkHardenedTrackingView),
    "sendgrid": (SendGridRawInboundView, SendGridHardenedTrackingView),
    "amazon_ses": (AmazonSESRawInboundView, AmazonSESHardenedTrackingView),
}


def fail_closed(view):
    """Anymail only warns when no webhook secret is set; Acolhe refuses every post instead."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not get_anymail_setting("webhook_secret", default=None, allow_bare=True):
            return HttpResponseForbidden("webhook secret is not configured")
        esp = kwargs.pop("esp")
        if esp not in settings.ACOLHE_INBOUND_ESPS:
            return HttpResponseForbidden(f"the {esp} webhook is not enabled")
        return view(request, *args, **kwargs)

    return wrapped


urlpatterns = []
for esp, (inbound_view, tracking_view) in ESPS.items():
    inbound = fail_closed(inbound_view.as_view())
    urlpatterns += [
        path(
            f"{esp}/tracking/",
            fail_closed(tracking_view.as_view()),
            {"esp": esp},
            name=f"{esp}_tracking_webhook",
        ),
    ]
    if esp == "mailgun":
        # Mailgun posts parsed fields to .../inbound/ and raw MIME to .../inbound_mime/.
        urlpatterns.append(
            re_path(r"^mailgun/inbound(_mime)?/$", inbound, {"esp": esp}, name="mailgun_inbound_webhook")
        )
    else:
        urlpatterns.append(path(f"{esp}/inbound/", inbound, {"esp": esp}, name=f"{esp}_inbound_webhook"))
