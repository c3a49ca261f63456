from django.urls import path

from assist import views

urlpatterns = [
    path("tickets/<int:number>/assist/", views.panel, name="assist_panel"),
    path("tickets/<int:number>/assist/<slug:action>/", views.ask, name="assist_ask"),
]
