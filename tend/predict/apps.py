from django.apps import AppConfig


class PredictConfig(AppConfig):
    name = "tend.predict"
    label = "predict"
    verbose_name = "Prediction"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each part registers its plug-ins here (features, panels, health measure, Today signal,
        # privacy entries); the engines never import this app.
        from tend.predict import features, privacy

        features.register_builtin()
        privacy.register()
        # Probabilistic CLV: the customer page's panel.
        from tend.predict.clv_views import register_panel as register_clv_panel

        register_clv_panel()
