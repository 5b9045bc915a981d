from django.urls import path

from tend.accounts import views

app_name = "settings"
urlpatterns = [
    path("", views.account, name="account"),
    path("password/", views.password_change, name="password"),
    path("language/", views.language_change, name="language"),
    path("users/", views.users, name="users"),
    path("users/<int:pk>/role/", views.user_role, name="user_role"),
    path("users/<int:pk>/deactivate/", views.user_deactivate_view, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", views.user_reactivate_view, name="user_reactivate"),
    path("users/<int:pk>/password/", views.user_password_reset, name="user_password"),
    path("api-keys/", views.keys, name="keys"),
    path("api-keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
    path("business/", views.business, name="business"),
]
