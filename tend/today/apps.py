from django.apps import AppConfig


class TodayConfig(AppConfig):
    name = "tend.today"
    label = "today"
    verbose_name = "Today"
