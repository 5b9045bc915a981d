from django.urls import path

from tend.messaging import template_views as views

app_name = "emailtemplates"
urlpatterns = [
    path("", views.template_list, name="list"),
    path("new/", views.template_new, name="new"),
    path("install/", views.template_install, name="install"),
    path("check/", views.template_check_view, name="check"),
    path("customers/", views.template_customer_search, name="customer_search"),
    path("<int:pk>/", views.template_detail, name="detail"),
    path("<int:pk>/edit/", views.template_edit, name="edit"),
    path("<int:pk>/frame/", views.template_frame, name="frame"),
    path("<int:pk>/test/", views.template_send_test, name="send_test"),
    path("<int:pk>/archive/", views.template_archive, name="archive"),
    path("<int:pk>/restore/", views.template_restore, name="restore"),
]
