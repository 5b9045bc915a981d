from django.urls import path

from tend.digest import views

app_name = "digest"
urlpatterns = [
    path("preview/", views.digest_preview, name="preview"),
    path("preview/email/", views.digest_preview_email, name="preview_email"),
    path("preference/", views.digest_preference, name="preference"),
]
