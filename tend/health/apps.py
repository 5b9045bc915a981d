from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def seed_default_scorecard(scorecard: Any, line: Any, using: str = "default") -> None:
    """Create the default scorecard from ``DEFAULT_SCORECARD`` when there is none (used by
    the data migration with historical models and after ``migrate``/``flush``)."""
    from tend.health.scorecards import DEFAULT_SCORECARD

    if scorecard.objects.using(using).filter(is_default=True).exists():
        return
    name = DEFAULT_SCORECARD["name"]
    if scorecard.objects.using(using).filter(name=name).exists():
        name = f"{name} (default)"
    card = scorecard.objects.using(using).create(
        name=name,
        position=0,
        is_default=True,
        red_below=DEFAULT_SCORECARD["red_below"],
        green_from=DEFAULT_SCORECARD["green_from"],
    )
    line.objects.using(using).bulk_create(
        [
            line(scorecard=card, position=i, **entry)
            for i, entry in enumerate(DEFAULT_SCORECARD["measures"])
        ]
    )


def _seed(sender: AppConfig, *, using: str = "default", **kwargs: Any) -> None:
    """Put the default scorecard back after ``flush`` (the test runner flushes between
    transactional tests), the way customers reseeds its channels."""
    apps = kwargs.get("apps") or global_apps
    try:
        scorecard = apps.get_model("health", "Scorecard")
        line = apps.get_model("health", "ScorecardMeasure")
    except LookupError:  # migrating to a state before scorecards existed
        return
    seed_default_scorecard(scorecard, line, using)


class HealthConfig(AppConfig):
    name = "tend.health"
    label = "health"
    verbose_name = "Health"

    def ready(self) -> None:
        from tend.health import privacy

        privacy.register()
        from tend.health.measures import measures_register_builtin
        from tend.health.plugins import register_plugins

        post_migrate.connect(_seed, sender=self)
        measures_register_builtin()
        register_plugins()
