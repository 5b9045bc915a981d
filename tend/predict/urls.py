"""Prediction pages under /predict/: churn risk (model page), customer lifetime (sBG, Cox)
and probabilistic CLV."""

from django.urls import URLPattern, URLResolver, path

from tend.predict import clv_views, lifetime_views, views

app_name = "predict"
urlpatterns: list[URLPattern | URLResolver] = [
    # Churn risk (model page) and "Train now" (owners).
    path("", views.churn, name="churn"),
    path("churn/train/", views.churn_train, name="churn_train"),
    # Customer lifetime: sBG projection by cohort and Cox factors.
    path("lifetime/", lifetime_views.lifetime, name="lifetime"),
    path("lifetime/refit/", lifetime_views.lifetime_refit, name="lifetime_refit"),
    # Probabilistic CLV from orders.
    path("clv/", clv_views.clv_page, name="clv"),
    path("clv/refit/", clv_views.clv_refit, name="clv_refit"),
]
