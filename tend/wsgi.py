import os

from django.core.wsgi import get_wsgi_application

from tend.lib.wsgi import close_when_body_unread

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
application = close_when_body_unread(get_wsgi_application())
