"""Prediction pages under /predict/: churn risk (model page), customer lifetime (sBG, Cox)
and probabilistic CLV. Each part adds its own lines."""

from django.urls import URLPattern, URLResolver

app_name = "predict"
urlpatterns: list[URLPattern | URLResolver] = []
