"""Django's zh_Hans formats, with thousands grouped by commas in threes.

Django's zh_Hans groups nothing (``|intcomma`` gives "2000 个客户"), while Tend's tiles,
charts and tables write "1,186", as Chinese business software does. One rule everywhere:
"2,000 个客户" (docs/decisions.md, "Chinese numbers and times").
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
