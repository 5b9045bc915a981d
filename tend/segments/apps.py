from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "tend.segments"
    label = "segments"
    verbose_name = "Segments"
