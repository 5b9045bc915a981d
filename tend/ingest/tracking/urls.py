from django.urls import re_path

from tend.ingest.tracking import views

app_name = "tracking"

urlpatterns = [
    re_path(
        r"^(?P<kind>identify|track|group|page|screen|alias|batch|import)/?$",
        views.receive,
        name="receive",
    ),
]
