from django.urls import path

from tend.health import views

app_name = "health"

urlpatterns = [
    path("scorecards/", views.scorecard_list, name="scorecards"),
    path("scorecards/new/", views.scorecard_new, name="scorecard_new"),
    path("scorecards/<int:pk>/", views.scorecard_edit, name="scorecard_edit"),
    path("scorecards/<int:pk>/delete/", views.scorecard_delete_view, name="scorecard_delete"),
    path("recompute/", views.recompute, name="recompute"),
]
