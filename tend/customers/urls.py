from django.urls import path

from tend.customers import channel_views, list_views, views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("bulk/", list_views.customer_bulk, name="bulk"),
    path("export.csv", list_views.customer_export_csv, name="export_csv"),
    path("export.xlsx", list_views.customer_export_xlsx, name="export_xlsx"),
    path("channels/", channel_views.channel_list, name="channels"),
    path("channels/add/", channel_views.channel_add, name="channel_add"),
    path("channels/<int:pk>/rename/", channel_views.channel_rename_view, name="channel_rename"),
    path("channels/<int:pk>/move/", channel_views.channel_move_view, name="channel_move"),
    path("channels/<int:pk>/archive/", channel_views.channel_archive_view, name="channel_archive"),
    path("channels/<int:pk>/restore/", channel_views.channel_restore_view, name="channel_restore"),
    path("new/", views.customer_create_view, name="create"),
    path("search/", views.customer_search, name="search"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit_view, name="edit"),
    path("<int:pk>/delete/", views.customer_delete_view, name="delete"),
    path("<int:pk>/timeline/", views.customer_timeline, name="timeline"),
    path("<int:pk>/notes/", views.customer_note_add, name="note_add"),
    path("<int:pk>/stage/", views.customer_stage_change, name="stage_change"),
    path("<int:pk>/tags/", views.customer_tags_set, name="tags_set"),
    path("<int:pk>/contacts/new/", views.contact_create_view, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_edit_view, name="contact_edit"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/delete/",
        views.contact_delete_view,
        name="contact_delete",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/primary/",
        views.contact_primary_view,
        name="contact_primary",
    ),
]
