from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tend.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from tend.accounts.audit_panel import history_panel
        from tend.accounts.audit_signin import on_logged_in, on_login_failed
        from tend.web.panels import panels

        panels.register(history_panel)
        user_logged_in.connect(on_logged_in, dispatch_uid="tend.audit.login")
        user_login_failed.connect(on_login_failed, dispatch_uid="tend.audit.login_failed")

        from tend.accounts import privacy

        privacy.register()
