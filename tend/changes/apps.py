from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "tend.changes"
    label = "changes"
    verbose_name = "Customer changes"
