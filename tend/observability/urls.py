from django.urls import path

from tend.observability import views

# No app namespace: load balancers and Prometheus know these paths by heart.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="prometheus_metrics"),
]
