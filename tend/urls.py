from django.urls import include, path

urlpatterns = [
    path("", include("tend.web.urls")),
    path("customers/", include("tend.customers.urls")),
    path("api/v1/", include("tend.api.urls")),
    path("v1/", include("tend.ingest.tracking.urls")),
    path("webhooks/", include("tend.ingest.webhooks.urls")),
    path("data-quality/", include("tend.ingest.urls")),
    path("imports/", include("tend.ingest.imports.urls")),
    path("metrics/", include("tend.metrics.urls")),
    path("goals/", include("tend.goals.urls")),
    path("billing/", include("tend.billing.urls")),
    path("settings/", include("tend.accounts.urls")),
    path("today/", include("tend.today.urls")),
    path("lifecycle/", include("tend.lifecycle.urls")),
    path("segments/behaviour/", include("tend.segments.behaviour_urls")),
    path("health/", include("tend.health.urls")),
    path("segments/", include("tend.segments.urls")),
    path("", include("tend.messaging.urls")),  # /messages/… and the public /u/<token>/
    path("tasks/", include("tend.tasks.urls")),
    path("emails/templates/", include("tend.messaging.template_urls")),
    path("playbooks/", include("tend.playbooks.urls")),
    path("operations/", include("tend.jobs.urls")),
    path("digest/", include("tend.digest.urls")),
    path("privacy/", include("tend.privacy.urls")),
    path("predict/", include("tend.predict.urls")),
    path("audit/", include("tend.accounts.audit_urls")),
    # /healthz, /readyz (load balancers) and /metrics (Prometheus): tend/observability.
    path("", include("tend.observability.urls")),
]
