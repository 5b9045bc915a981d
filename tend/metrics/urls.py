from django.urls import path

from tend.metrics import views

app_name = "metrics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("survival/", views.survival_panel, name="survival"),
    path("refresh/", views.refresh, name="refresh"),
    path("export/<slug:name>.<slug:fmt>", views.export, name="export"),
    path("report/", views.report, name="report"),
]
