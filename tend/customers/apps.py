from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def _seed_channels(sender: AppConfig, *, using: str = "default", **kwargs: Any) -> None:
    """Put the built-in acquisition channels on an empty list after ``migrate`` or ``flush``.

    The same job Django's contenttypes and auth apps do with this signal: rows every install
    needs. Migration 0005 seeds them once; ``flush`` (and the test runner, which flushes
    between transactional tests) empties the table and sends ``post_migrate`` again.
    """
    # ``migrate`` passes the migrated state's apps; ``flush`` passes none (the models as they
    # are now).
    apps = kwargs.get("apps") or global_apps
    try:
        channel = apps.get_model("customers", "AcquisitionChannel")
    except LookupError:  # migrating to a state before the channel list existed
        return
    from tend.customers.models import Channel

    if channel.objects.using(using).exists():
        return
    channel.objects.using(using).bulk_create(
        [channel(code=code, position=i) for i, code in enumerate(Channel.values, 1)],
        ignore_conflicts=True,
    )


class CustomersConfig(AppConfig):
    name = "tend.customers"
    label = "customers"

    def ready(self) -> None:
        from tend.customers import privacy

        privacy.register()
        post_migrate.connect(_seed_channels, sender=self)
        from tend.customers import today_signals

        today_signals.register()
