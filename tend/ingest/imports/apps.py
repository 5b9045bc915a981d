from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "tend.ingest.imports"
    label = "imports"
