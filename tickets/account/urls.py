from django.urls import path

from tickets.account import views

urlpatterns = [
    path("account/tokens/", views.tokens, name="account_tokens"),
    path("account/2fa/", views.two_factor, name="two_factor"),
    path("account/2fa/verify/", views.two_factor_verify, name="two_factor_verify"),
]
