from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Signing in and out, two-factor, API tokens and the interface language and time zone of a session."""

    name = "accounts"

    def ready(self) -> None:
        # Every session creation (the app's login, the admin's, any other) owes the second factor.
        from django.contrib.auth.signals import user_logged_in

        from accounts.services import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="acolhe_two_factor")
