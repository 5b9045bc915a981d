from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "tend.activity"
    label = "activity"

    def ready(self) -> None:
        from tend.activity import privacy

        privacy.register()
        from tend.activity import today_signals

        today_signals.register()
