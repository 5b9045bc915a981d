"""Privacy pages: export a customer, erase a customer or a contact, the list of erasures.

Export: owners and members (it hands over everything Tend holds on a person, so viewers may
not). Erase and the list of erasures: owners only. docs/privacy.md says why.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.customers.models import Contact, Customer
from tend.lib.access import require_manage, require_write
from tend.privacy.actions import (
    contact_erase,
    customer_erase,
    customer_export,
    erase_preview,
    export_filename,
    is_erased,
    on_erase_label,
)
from tend.privacy.forms import EraseForm
from tend.privacy.models import Erasure
from tend.privacy.registry import ANONYMISE, DELETE, KEEP, entries


@require_POST
def customer_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = require_write(request.user)
    customer = get_object_or_404(Customer, pk=pk)
    data = customer_export(customer=customer, by=user)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(customer)}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def customer_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = require_manage(request.user)
    customer = get_object_or_404(Customer, pk=pk)
    form = EraseForm(request.POST or None, name=customer.name)
    if request.method == "POST" and form.is_valid():
        customer_erase(customer=customer, by=user, reference=form.cleaned_data["reference"])
        messages.success(
            request,
            _("The customer is erased. Billing records stay, anonymised, for accounting."),
        )
        return redirect("customers:detail", pk=customer.pk)
    # What goes first, then what stays anonymised, then what stays as it is.
    rank = {DELETE: 0, ANONYMISE: 1, KEEP: 2}
    preview = sorted(
        erase_preview(customer), key=lambda p: (rank.get(p[0].on_erase, 3), p[0].order, p[0].name)
    )
    rows = [
        {"entry": entry, "count": count, "what": on_erase_label(entry), "on_erase": entry.on_erase}
        for entry, count in preview
    ]
    return render(
        request,
        "privacy/erase_customer.html",
        {
            "customer": customer,
            "form": form,
            "rows": rows,
            "already": is_erased(customer),
        },
        status=422 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def contact_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = require_manage(request.user)
    contact = get_object_or_404(Contact.objects.select_related("customer"), pk=pk)
    form = EraseForm(request.POST or None, name=contact.name)
    if request.method == "POST" and form.is_valid():
        customer_pk = contact.customer_id
        contact_erase(contact=contact, by=user, reference=form.cleaned_data["reference"])
        messages.success(request, _("The contact is erased."))
        return redirect("customers:detail", pk=customer_pk)
    touched = [
        {"entry": entry, "what": on_erase_label(entry)}
        for entry in entries()
        if entry.erase_contact is not None
    ]
    return render(
        request,
        "privacy/erase_contact.html",
        {"contact": contact, "customer": contact.customer, "form": form, "touched": touched},
        status=422 if request.method == "POST" else 200,
    )


@require_GET
def erasure_list(request: HttpRequest) -> HttpResponse:
    require_manage(request.user)
    page = Paginator(Erasure.objects.select_related("by").order_by("-at", "-pk"), 100).get_page(
        request.GET.get("page")
    )
    return render(request, "privacy/erasures.html", {"page": page})
