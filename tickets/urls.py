from django.contrib.auth import views as auth_views
from django.urls import include, path

from tickets import views, views_escalation

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
    path("tickets/<int:number>/escalate/", views_escalation.escalate, name="ticket_escalate"),
    path("escalations/", views_escalation.escalation_list, name="escalation_list"),
    path("escalations/<int:pk>/hand-back/", views_escalation.hand_back, name="escalation_hand_back"),
    path("escalations/<int:pk>/claim/", views_escalation.escalation_claim, name="escalation_claim"),
    path("notifications/", views_escalation.notification_list, name="notifications"),
    path("sla/", views_escalation.sla_health, name="sla_health"),
]
