from django.urls import path

from tend.today import views

app_name = "today"
urlpatterns = [
    path("", views.today_list, name="list"),
    path("<int:pk>/snooze/", views.today_snooze_view, name="snooze"),
    path("<int:pk>/handled/", views.today_handled_view, name="handled"),
    path("<int:pk>/note/", views.today_note_view, name="note"),
]
