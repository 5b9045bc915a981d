from django.urls import path

from tend.goals import views

app_name = "goals"
urlpatterns = [
    path("", views.goal_list, name="list"),
    path("panel/", views.goal_panel, name="panel"),
    path("new/", views.goal_new, name="new"),
    path("<int:pk>/edit/", views.goal_edit, name="edit"),
    path("<int:pk>/archive/", views.goal_archive_view, name="archive"),
    path("<int:pk>/restore/", views.goal_restore_view, name="restore"),
]
