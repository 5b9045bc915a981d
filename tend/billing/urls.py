from django.urls import path

from tend.billing import views

app_name = "billing"
urlpatterns = [
    path("plans/", views.plan_list, name="plans"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/archive/", views.plan_archive_view, name="plan_archive"),
    path("plans/<int:pk>/restore/", views.plan_restore_view, name="plan_restore"),
    path("rates/", views.rate_list, name="rates"),
    path("rates/<int:pk>/delete/", views.rate_delete, name="rate_delete"),
]
