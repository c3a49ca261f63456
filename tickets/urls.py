from django.urls import include, path

from tickets import views
from tickets.workspace import views as workspace_views

urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/<int:number>/", workspace_views.ticket_detail, name="ticket"),
    path("messages/<int:pk>/source/", views.message_source, name="message_source"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("", include("tickets.workspace.urls")),
    path("", include("tickets.wellbeing.urls")),
    path("", include("tickets.escalations.urls")),
    path("", include("tickets.sla.urls")),
]
