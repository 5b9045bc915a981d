from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "tend.ingest"
    label = "ingest"
