from django.urls import path

from tickets.sla import views

urlpatterns = [
    path("sla/", views.sla_health, name="sla_health"),
]
