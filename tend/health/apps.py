from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "tend.health"
    label = "health"
    verbose_name = "Health"
