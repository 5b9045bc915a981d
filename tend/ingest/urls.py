from django.urls import path

from tend.ingest import views

app_name = "ingest"
urlpatterns = [
    path("", views.data_quality, name="data_quality"),
]
