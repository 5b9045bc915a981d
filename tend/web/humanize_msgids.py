"""Django humanize's relative-time strings, named here so Tend's catalog can override them.

Django's own zh_Hans humanize catalog writes "1 月前", "4 日", "15小时之前": 月 without 个,
日 for days and 前 next to 之前. Tend's catalog (LOCALE_PATHS) wins over Django's, so it
says "1 个月前", "4 天前", "15 小时前" instead. ``makemessages --no-obsolete`` keeps only the
msgids it finds in Tend's source, so they are listed below exactly as humanize writes them
(django/contrib/humanize/templatetags/humanize.py). Nothing imports this module; a test
checks that every one of them is in the zh_Hans catalog.
"""

from django.utils.translation import gettext_lazy, ngettext_lazy, npgettext_lazy

HUMANIZE_MSGIDS = (
    gettext_lazy("%(delta)s ago"),
    ngettext_lazy("an hour ago", "%(count)s hours ago", "count"),
    ngettext_lazy("a minute ago", "%(count)s minutes ago", "count"),
    ngettext_lazy("a second ago", "%(count)s seconds ago", "count"),
    gettext_lazy("now"),
    ngettext_lazy("a second from now", "%(count)s seconds from now", "count"),
    ngettext_lazy("a minute from now", "%(count)s minutes from now", "count"),
    ngettext_lazy("an hour from now", "%(count)s hours from now", "count"),
    gettext_lazy("%(delta)s from now"),
    npgettext_lazy("naturaltime-past", "%(num)d year", "%(num)d years", "num"),
    npgettext_lazy("naturaltime-past", "%(num)d month", "%(num)d months", "num"),
    npgettext_lazy("naturaltime-past", "%(num)d week", "%(num)d weeks", "num"),
    npgettext_lazy("naturaltime-past", "%(num)d day", "%(num)d days", "num"),
    npgettext_lazy("naturaltime-past", "%(num)d hour", "%(num)d hours", "num"),
    npgettext_lazy("naturaltime-past", "%(num)d minute", "%(num)d minutes", "num"),
    npgettext_lazy("naturaltime-future", "%(num)d year", "%(num)d years", "num"),
    npgettext_lazy("naturaltime-future", "%(num)d month", "%(num)d months", "num"),
    npgettext_lazy("naturaltime-future", "%(num)d week", "%(num)d weeks", "num"),
    npgettext_lazy("naturaltime-future", "%(num)d day", "%(num)d days", "num"),
    npgettext_lazy("naturaltime-future", "%(num)d hour", "%(num)d hours", "num"),
    npgettext_lazy("naturaltime-future", "%(num)d minute", "%(num)d minutes", "num"),
)
