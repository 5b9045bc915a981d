from django.urls import URLPattern, URLResolver, path

from tend.api.main import api

# API calls answer 401 JSON rather than redirecting to the login page, so they opt out of
# LoginRequiredMiddleware and authenticate themselves (tend.api.auth). The docs page keeps
# the redirect: it is for people in a browser.
_patterns, _app, _namespace = api.urls
for _pattern in _patterns:
    if isinstance(_pattern, URLPattern) and _pattern.name != "openapi-view":
        _pattern.callback.login_required = False  # type: ignore[attr-defined]

urlpatterns: list[URLPattern | URLResolver] = [path("", (_patterns, _app, _namespace))]
