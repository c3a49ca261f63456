from django.urls import path

from tickets.escalations import views

urlpatterns = [
    path("tickets/<int:number>/escalate/", views.escalate, name="ticket_escalate"),
    path("escalations/", views.escalation_list, name="escalation_list"),
    path("escalations/<int:pk>/hand-back/", views.hand_back, name="escalation_hand_back"),
    path("escalations/<int:pk>/claim/", views.escalation_claim, name="escalation_claim"),
    path("notifications/", views.notification_list, name="notifications"),
]
