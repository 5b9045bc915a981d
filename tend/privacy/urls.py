from django.urls import path

from tend.privacy import views

app_name = "privacy"
urlpatterns = [
    path("customers/<int:pk>/export/", views.customer_export_view, name="customer_export"),
    path("customers/<int:pk>/erase/", views.customer_erase_view, name="customer_erase"),
    path("contacts/<int:pk>/erase/", views.contact_erase_view, name="contact_erase"),
    path("erasures/", views.erasure_list, name="erasures"),
]
