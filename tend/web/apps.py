from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tend.web"
    label = "web"

    def ready(self) -> None:
        from tend import checks  # noqa: F401 - registers the system checks
