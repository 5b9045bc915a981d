"""Settings for the worker processes of tend/tests/test_playbooks_worker_e2e.py: Tend's own
settings, with only the playbook and outbox schedules, due every second instead of every
minute (croniter's sixth field is seconds), so a killed worker's claims are picked up again
within the test's time and not a minute later. Everything else is production's."""

from tend.settings import *  # noqa: F403
from tend.settings import TEND_SCHEDULES as _PRODUCTION

E2E_SCHEDULES = {
    "playbooks-scan": "* * * * * */2",
    "playbooks-advance": "* * * * * *",
    "messages-send": "* * * * * *",
}

TEND_SCHEDULES = {
    name: {"cron": cron, "task": _PRODUCTION[name]["task"]}
    for name, cron in E2E_SCHEDULES.items()
    if name in _PRODUCTION
}
