from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "tend.digest"
    label = "digest"
    verbose_name = "Digest"
