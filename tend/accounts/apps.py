from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tend.accounts"
    label = "accounts"

    def ready(self) -> None:
        from tend.accounts.audit_panel import history_panel
        from tend.web.panels import panels

        panels.register(history_panel)
