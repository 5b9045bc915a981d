from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "tend.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"
