from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tend.tasks"
    label = "tasks"
    verbose_name = "Tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tend.tasks import privacy

        privacy.register()
        from tend.tasks.panels import tasks_panel, today_tasks
        from tend.today.sections import sections
        from tend.web.panels import panels

        panels.register(tasks_panel)
        sections.register(today_tasks)
