"""Prediction pages under /predict/: churn risk (model page), customer lifetime (sBG, Cox)
and probabilistic CLV. Each part adds its own lines."""

from django.urls import URLPattern, URLResolver, path

from tend.predict import clv_views

app_name = "predict"
urlpatterns: list[URLPattern | URLResolver] = []
urlpatterns += [
    path("clv/", clv_views.clv_page, name="clv"),
    path("clv/refit/", clv_views.clv_refit, name="clv_refit"),
]
