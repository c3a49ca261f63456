from django.urls import path

from tickets.workspace import views

urlpatterns = [
    path("work/bulk/", views.bulk, name="workspace_bulk"),
    # Before `work/<view>/`, which would read "counts" as a view's name.
    path("work/counts/", views.sidebar_counts, name="workspace_counts"),
    path("work/queue/<slug:slug>/", views.ticket_list, {"view": "all"}, name="workspace_queue"),
    path("work/<str:view>/", views.ticket_list, name="workspace"),
    path("next/", views.next_ticket, name="next_ticket"),
    path("search/", views.search_page, name="search"),
    path("tickets/<int:number>/fields/", views.update_fields, name="ticket_fields"),
    path("tickets/<int:number>/reply/", views.reply, name="ticket_reply"),
    path("tickets/<int:number>/merge/", views.merge, name="ticket_merge"),
    path("tickets/<int:number>/presence/", views.presence_report, name="ticket_presence"),
    path("tickets/<int:number>/earlier/", views.earlier_messages, name="ticket_earlier_messages"),
    path("tickets/<int:number>/timeline/", views.timeline, name="ticket_timeline"),
    path("tickets/<int:number>/requester-tickets/", views.requester_tickets, name="ticket_requester_tickets"),
    path("messages/<int:pk>/resend/", views.resend, name="message_resend"),
    path("views/save/", views.save_view, name="saved_view_save"),
    path("views/<int:pk>/delete/", views.delete_view, name="saved_view_delete"),
]
