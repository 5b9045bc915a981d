from django.urls import path

from tend.messaging import views

app_name = "messaging"
urlpatterns = [
    path("messages/", views.message_list, name="list"),
    path("messages/<int:pk>/", views.message_detail, name="detail"),
    path("messages/<int:pk>/html/", views.message_html, name="html"),
    path("messages/<int:pk>/retry/", views.message_retry_view, name="retry"),
    path("messages/<int:pk>/cancel/", views.message_cancel_view, name="cancel"),
    path("messages/suppressions/", views.suppression_list, name="suppressions"),
    path(
        "messages/suppressions/<int:pk>/remove/",
        views.suppression_remove_view,
        name="suppression_remove",
    ),
    path("messages/webhooks/", views.endpoint_list, name="webhooks"),
    path("messages/webhooks/<int:pk>/archive/", views.endpoint_archive, name="webhook_archive"),
    path("messages/webhooks/<int:pk>/rotate/", views.endpoint_rotate, name="webhook_rotate"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
