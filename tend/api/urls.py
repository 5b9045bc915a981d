from django.urls import path

from tend.api.main import api

urlpatterns = [path("", api.urls)]
