"""Settings for the worker processes of tend/tests/test_multiprocess_e2e.py: Tend's own
settings with two schedules due every second (croniter's sixth field is seconds) instead of
production's list: the test's marker ``multiprocess-tick`` and production's
``imports-interrupted``, so that a killed worker's import is found interrupted by the
surviving worker's scheduler within the test's time. Everything else is production's."""

from tend.settings import *  # noqa: F403
from tend.settings import TEND_SCHEDULES as _PRODUCTION

TEND_SCHEDULES = {
    "multiprocess-tick": {"cron": "* * * * * *", "task": "tend.tests.multiprocess_tasks.tick"},
    "imports-interrupted": {
        "cron": "* * * * * *",
        "task": _PRODUCTION["imports-interrupted"]["task"],
    },
}
