from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "tend.activity"
    label = "activity"
