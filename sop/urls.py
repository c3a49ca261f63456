from django.urls import path

from sop import views

app_name = "sop"

urlpatterns = [
    path("", views.library, name="library"),
    path("new/", views.sop_edit, name="sop_new"),
    path("macros/", views.macro_list, name="macros"),
    path("macros/new/", views.macro_edit, name="macro_new"),
    path("macros/<int:pk>/edit/", views.macro_edit, name="macro_edit"),
    path("macros/search/", views.macro_search, name="macro_search"),
    path("tickets/<int:number>/panel/", views.ticket_panel, name="ticket_panel"),
    path("tickets/<int:number>/steps/<int:step_id>/", views.ticket_step, name="ticket_step"),
    path("versions/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<slug:slug>/", views.sop_detail, name="detail"),
    path("<slug:slug>/edit/", views.sop_edit, name="sop_edit"),
    path("<slug:slug>/history/", views.history, name="history"),
    path("<slug:slug>/diff/", views.diff, name="diff"),
    path("<slug:slug>/coverage/", views.coverage, name="coverage"),
    path("<slug:slug>/versions/new/", views.version_new, name="version_new"),
    path("<slug:slug>/versions/<int:pk>/", views.version_detail, name="version"),
    path("<slug:slug>/versions/<int:pk>/edit/", views.version_edit, name="version_edit"),
    path("<slug:slug>/versions/<int:pk>/publish/", views.version_publish, name="version_publish"),
    path("<slug:slug>/versions/<int:pk>/remind/", views.remind, name="remind"),
]
