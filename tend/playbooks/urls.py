from django.urls import path

from tend.playbooks import views

app_name = "playbooks"
urlpatterns = [
    path("", views.playbook_list, name="list"),
    path("gallery/", views.gallery, name="gallery"),
    path("gallery/install/", views.gallery_install, name="install"),
    path("new/", views.playbook_new, name="new"),
    path("start/", views.customer_start, name="start_customer"),
    path("<int:pk>/", views.playbook_detail, name="detail"),
    path("<int:pk>/edit/", views.playbook_edit, name="edit"),
    path("<int:pk>/status/", views.playbook_status, name="status"),
    path("<int:pk>/dry-run/", views.playbook_dry_run_page, name="dry_run"),
    path("<int:pk>/start/", views.playbook_start_view, name="start"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/action/", views.run_action, name="run_action"),
]
