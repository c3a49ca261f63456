from django.urls import path

from tickets.wellbeing import views

urlpatterns = [
    path("wellbeing/", views.my_wellbeing, name="wellbeing"),
    path("wellbeing/intake/", views.intake, name="wellbeing_intake"),
    path("wellbeing/skip/", views.skip, name="wellbeing_skip"),
    path("wellbeing/text-only/", views.text_only, name="wellbeing_text_only"),
    path("wellbeing/team/", views.team, name="wellbeing_team"),
    path("tickets/<int:number>/reveal/", views.reveal, name="ticket_reveal"),
    path("tickets/<int:number>/clear-flag/", views.clear_flag, name="ticket_clear_flag"),
]
