from django.urls import path

from tend.segments import views

app_name = "segments"
urlpatterns = [
    path("", views.segment_list, name="list"),
    path("new/", views.segment_new, name="new"),
    path("count/", views.segment_count, name="count"),
    path("<int:pk>/", views.segment_detail, name="detail"),
    path("<int:pk>/edit/", views.segment_edit, name="edit"),
    path("<int:pk>/refresh/", views.segment_refresh_view, name="refresh"),
    path("<int:pk>/delete/", views.segment_delete_view, name="delete"),
]
