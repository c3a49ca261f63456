from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<str:table>.csv", views.export_csv, name="export"),
    path("me/", views.my_scores, name="me"),
    path("associates/<int:pk>/", views.associate_scores, name="associate"),
    path("heartbeat/", views.heartbeat, name="heartbeat"),
    path("qa/", views.qa_home, name="qa"),
    path("qa/tickets/<int:number>/review/", views.review_ticket, name="review_ticket"),
    path("qa/tickets/<int:number>/calibrate/", views.calibration_new, name="calibration_new"),
    path("qa/reviews/<int:pk>/", views.review_detail, name="review"),
    path("qa/calibrations/<int:pk>/", views.calibration_detail, name="calibration"),
    path("csat/<str:token>/", views.csat, name="csat"),
]
