from django.urls import path

from tend.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.operations_page, name="operations"),
    path("runs/<int:pk>/retry/", views.run_retry_view, name="run_retry"),
    path("messages/<int:pk>/retry/", views.message_retry_view, name="message_retry"),
]
