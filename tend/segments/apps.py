from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "tend.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        from tend.segments import privacy

        privacy.register()
        from tend.segments.behaviour_fields import behaviour_fields_register

        behaviour_fields_register()
