from django.urls import path

from tend.segments import behaviour_views as views

app_name = "behaviour"
urlpatterns = [
    path("", views.behaviour_page, name="page"),
    path("rfm/", views.rfm_recompute, name="rfm"),
    path("clusters/", views.clusters_recompute, name="clusters"),
    path("clusters/<int:pk>/rename/", views.cluster_rename_view, name="rename"),
    path("save/", views.segment_save, name="save"),
]
