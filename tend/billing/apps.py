from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "tend.billing"
    label = "billing"

    def ready(self) -> None:
        from tend.billing import privacy

        privacy.register()
        from tend.billing import today_signals

        today_signals.register()
