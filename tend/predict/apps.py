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
        # ui: the customer-page churn panel, the churn_risk health measure, the Today signal.
        from tend.predict import measures as churn_measures
        from tend.predict import panels as churn_panels
        from tend.predict import signals as churn_signals

        churn_panels.register()
        churn_measures.register()
        churn_signals.register()
        # Probabilistic CLV: the customer page's panel.
        from tend.predict.clv_views import register_panel as register_clv_panel

        register_clv_panel()
