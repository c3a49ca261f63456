from django.contrib.auth import views as auth_views
from django.urls import include, path

from tickets import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("queues/<slug:slug>/", views.queue_tickets, name="queue"),
    path("tickets/<int:number>/", views.ticket_detail, name="ticket"),
    path("messages/<int:pk>/source/", views.message_source, name="message_source"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("", include("tickets.workspace.urls")),
    path("", include("tickets.wellbeing.urls")),
    path("", include("tickets.account.urls")),
    path("", include("tickets.assist.urls")),
    path("", include("tickets.escalations.urls")),
    path("", include("tickets.sla.urls")),
]
