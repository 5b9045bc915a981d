from django.apps import AppConfig


class RateLimitConfig(AppConfig):
    name = "tend.ratelimit"
    label = "ratelimit"
