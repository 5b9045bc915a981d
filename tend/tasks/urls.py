from django.urls import path

from tend.tasks import views

app_name = "tasks"
urlpatterns = [
    path("", views.task_list, name="list"),
    path("new/", views.task_new, name="new"),
    path("customers/", views.customer_search, name="customer_search"),
    path("complete/", views.task_bulk_complete_view, name="bulk_complete"),
    path("<int:pk>/complete/", views.task_complete_view, name="complete"),
    path("<int:pk>/reopen/", views.task_reopen_view, name="reopen"),
    path("<int:pk>/snooze/", views.task_snooze_view, name="snooze"),
    path("<int:pk>/reassign/", views.task_reassign_view, name="reassign"),
]
