from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("account/tokens/", views.tokens, name="account_tokens"),
    path("account/2fa/", views.two_factor, name="two_factor"),
    path("account/2fa/verify/", views.two_factor_verify, name="two_factor_verify"),
]
