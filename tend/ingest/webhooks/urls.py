from django.urls import path

from tend.ingest.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("stripe", views.stripe_webhook, name="stripe"),
]
