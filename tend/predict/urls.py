"""Prediction pages under /predict/: churn risk (model page), customer lifetime (sBG, Cox)
and probabilistic CLV. Each part adds its own lines."""

from django.urls import URLPattern, URLResolver, path

from tend.predict import lifetime_views

app_name = "predict"
urlpatterns: list[URLPattern | URLResolver] = []
urlpatterns.append(path("lifetime/", lifetime_views.lifetime, name="lifetime"))
urlpatterns.append(path("lifetime/refit/", lifetime_views.lifetime_refit, name="lifetime_refit"))
from tend.predict import views

app_name = "predict"
urlpatterns: list[URLPattern | URLResolver] = [
    # Churn risk (model page) and "Train now" (owners).
    path("", views.churn, name="churn"),
    path("churn/train/", views.churn_train, name="churn_train"),
from tend.predict import clv_views

app_name = "predict"
urlpatterns: list[URLPattern | URLResolver] = []
urlpatterns += [
    path("clv/", clv_views.clv_page, name="clv"),
    path("clv/refit/", clv_views.clv_refit, name="clv_refit"),
]
