from django.urls import path

from tend.billing import views

app_name = "billing"
urlpatterns = [
    path("rates/", views.rate_list, name="rates"),
    path("rates/<int:pk>/delete/", views.rate_delete, name="rate_delete"),
]
