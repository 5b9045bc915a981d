from django.urls import path

from tend.ingest.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("<int:pk>/values/", views.import_values, name="values"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/start/", views.import_start_view, name="start"),
    path("<int:pk>/resume/", views.import_resume_view, name="resume"),
    path("<int:pk>/cancel/", views.import_cancel_view, name="cancel"),
    path("<int:pk>/rejected.csv", views.import_rejected_csv, name="rejected"),
]
