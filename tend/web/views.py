from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return redirect("customers:list")


class LoginView(auth_views.LoginView):
    """Django's login (already exempt from LoginRequiredMiddleware) with our template."""

    template_name = "web/login.html"
    redirect_authenticated_user = True


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: answers 200 when the database answers. Reveals nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
