from django.urls import path

from tend.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/timeline/", views.customer_timeline, name="timeline"),
    path("<int:pk>/notes/", views.customer_note_add, name="note_add"),
    path("<int:pk>/stage/", views.customer_stage_change, name="stage_change"),
    path("<int:pk>/tags/", views.customer_tags_set, name="tags_set"),
]
