"""Account pages: sign-in, the interface language, API tokens, and two-factor enrolment and verification.
Thin: parse, call a service, render."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.forms import CodeForm
from accounts.middleware import SESSION_TIMEZONE_KEY
from helpdesk import redirects
from helpdesk.pages import render_page
from helpdesk.redirects import safe_url
from tickets.models import Profile


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        profile, _ = Profile.objects.get_or_create(user=form.get_user())
        # The second factor is asked for by the `user_logged_in` receiver (accounts.services), on
        # this login as on every other.
        self.request.session[SESSION_TIMEZONE_KEY] = profile.timezone
        if profile.ui_language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, profile.ui_language, max_age=settings.LANGUAGE_COOKIE_AGE
            )
        return response


@require_POST
def set_language(request):
    """Switch the interface language; remembered in a cookie and, when signed in, on the profile."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(safe_url(request, request.POST.get("next"), "/"))
    if language and check_for_language(language) and language in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE)
        if request.user.is_authenticated:
            Profile.objects.update_or_create(user=request.user, defaults={"ui_language": language})
    return response


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    new_key = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if services.revoke_token(actor=request.user, request=request):
                messages.success(request, _("Your API token was revoked."))
            return redirect("account_tokens")
        try:
            new_key = services.create_token(actor=request.user, request=request)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
            return redirect("account_tokens")
    token = Token.objects.filter(user=request.user).first()
    context = {"token": token, "new_key": new_key, "can_use_two_factor": services.may_use_two_factor(request.user)}
    return render_page(request, "account/tokens.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    if not services.may_use_two_factor(request.user):
        raise PermissionDenied
    enrolled = services.has_two_factor(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "disable":
        # Turning it off takes a current code, so a borrowed session cannot quietly remove the factor.
        if form.is_valid():
            try:
                services.disable_two_factor(request, form.cleaned_data["code"], actor=request.user)
            except PermissionDenied as exc:
                messages.error(request, str(exc))
                return redirect("two_factor")
            except ValidationError as exc:
                form.add_error("code", exc.messages[0])
            else:
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("two_factor")
    elif request.method == "POST" and form.is_valid():
        if services.confirm_device(request, form.cleaned_data["code"], actor=request.user):
            messages.success(request, _("Two-factor sign-in is on. You will be asked for a code when you sign in."))
            return redirect("two_factor")
        form.add_error("code", _("That code is not right. Check the time on your phone and try again."))
    context = {
        "enrolled": enrolled,
        "form": form,
        "required": services.must_use_two_factor(request.user),
        "enrolment_pending": bool(request.session.get(services.SESSION_ENROLMENT_PENDING)),
    }
    if not enrolled:
        device = services.pending_device(actor=request.user)
        context["qr"] = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
        context["secret"] = device.config_url.split("secret=")[1].split("&")[0]
    return render_page(request, "account/two_factor.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    next_url = redirects.next_url(request, "/")
    if not request.session.get(services.SESSION_OTP_PENDING):
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.verify_code(request, form.cleaned_data["code"], actor=request.user):
            return redirect(next_url)
        form.add_error("code", _("That code is not right. Check the time on your phone and try again."))
    return render_page(request, "account/two_factor_verify.html", {"form": form, "next": next_url})
