import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apps.djangoproj.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402 - settings must be set first

application = get_wsgi_application()
