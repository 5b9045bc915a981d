from django.apps import AppConfig


class GoalsConfig(AppConfig):
    name = "tend.goals"
    label = "goals"
