from django.urls import path

from tend.lifecycle import views

app_name = "lifecycle"
urlpatterns = [
    path("", views.board, name="board"),
    path("move/<int:pk>/", views.card_move, name="move"),
    path("override/<int:pk>/clear/", views.override_clear, name="override_clear"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/check/", views.condition_check, name="condition_check"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/reorder/", views.rule_reorder, name="rule_reorder"),
    path("rules/<int:pk>/delete/", views.rule_remove, name="rule_delete"),
]
