"""Import pages: upload → mapping → dry-run preview → import in the background → summary.

Parse → authorize → act → render; every write goes through ``imports.actions``.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.ingest.imports.actions import (
    ImportStateError,
    MappingError,
    check_mapping,
    import_cancel,
    import_create,
    import_resume,
    import_start,
    import_store,
    imports_interrupt_stale,
)
from tend.ingest.imports.fields import TRAIT, TRAIT_KINDS, fields_for
from tend.ingest.imports.forms import UploadForm
from tend.ingest.imports.models import DateOrder, Import, ImportStatus
from tend.ingest.imports.problems import cleaning_lines, reason_label
from tend.ingest.imports.queries import first_problems, rejected_csv_lines
from tend.ingest.imports.values import (
    OPTION_KINDS,
    ValueMapError,
    check_options,
    check_value_map,
    file_values,
    norm,
)
from tend.lib.access import can_write, require_write, write_view

PAGE_SIZE = 25


@require_http_methods(["GET", "POST"])
@write_view
def import_list(request: HttpRequest) -> HttpResponse:
    """Imports history, with the upload form for those who may import."""
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            stored = import_store(source=upload, file_name=upload.name or "upload.csv")
            try:
                run = import_create(
                    kind=form.cleaned_data["kind"],
                    path=stored,
                    file_name=upload.name or stored.name,
                    by=request.user,  # type: ignore[arg-type]
                    date_order=form.cleaned_data["date_order"],
                )
            except (ValueError, UnicodeError) as exc:
                stored.unlink(missing_ok=True)
                form.add_error("file", _("This file cannot be read: %(error)s") % {"error": exc})
            else:
                return redirect("imports:mapping", pk=run.pk)
    imports_interrupt_stale()  # a run whose worker died shows as interrupted, not running
    page = Paginator(Import.objects.recent(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/list.html",
        {"form": form, "page": page, "can_write": can_write(request.user)},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@write_view
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Which column of the file fills which field; suggested from the headers, editable."""
    run = get_object_or_404(Import, pk=pk)
    if not run.path:  # the file is no longer kept (imports.cleanup): nothing to map
        return redirect("imports:detail", pk=run.pk)
    errors: list[str] = []
    options = dict(run.options or {})
    if request.method == "POST":
        mapping = {h: request.POST.get(f"col_{i}", "")[:100] for i, h in enumerate(run.headers)}
        date_order = request.POST.get("date_order", run.date_order)
        if date_order not in DateOrder.values:
            date_order = run.date_order
        try:
            check_mapping(run.kind, run.headers, mapping)
        except MappingError as exc:
            errors.append(str(exc))
        try:
            options = check_options(
                run.kind,
                create_plans=bool(request.POST.get("create_plans")),
                create_channels=bool(request.POST.get("create_channels")),
                owner=request.POST.get("owner", "")[:200],
                stage=request.POST.get("stage", "")[:200],
            )
        except ValueMapError as exc:
            errors.append(str(exc))
        if run.is_active or run.status == ImportStatus.INTERRUPTED:
            # The run holding it reads the file with this mapping: resume or cancel it first.
            errors = [
                _(
                    "This import is running or interrupted; resume or cancel it before "
                    "starting again."
                )
            ]
        elif not errors:
            Import.objects.filter(pk=run.pk).update(
                mapping=mapping, date_order=date_order, options=options
            )
            run.refresh_from_db()
            if file_values(run):  # values that are not Tend's: match them first
                return redirect("imports:values", pk=run.pk)
            try:
                import_start(run=run, by=request.user, dry_run=True)  # type: ignore[arg-type]
            except ImportStateError as exc:
                errors.append(str(exc))
            else:
                return redirect("imports:detail", pk=run.pk)
    samples = _samples(run)
    fields = fields_for(run.kind)
    columns = [
        {"index": i, "header": h, "field": run.mapping.get(h, ""), "sample": samples.get(i, "")}
        for i, h in enumerate(run.headers)
    ]
    from tend.accounts.models import User
    from tend.customers.models import Stage

    offered = {name for name, kinds in OPTION_KINDS.items() if run.kind in kinds}
    return render(
        request,
        "imports/mapping.html",
        {
            "run": run,
            "columns": columns,
            "fields": fields,
            "traits": run.kind in TRAIT_KINDS,
            "trait": TRAIT,
            "required": [f for f in fields if f.required],
            "date_orders": DateOrder.choices,
            "error": " ".join(errors),
            "can_write": can_write(request.user),
            "offered": offered,
            "options": options,
            "users": User.objects.filter(is_active=True).order_by("username")
            if "owner" in offered
            else [],
            "stages": Stage.choices,
        },
        status=422 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@write_view
def import_values(request: HttpRequest, pk: int) -> HttpResponse:
    """The values of the file that are not Tend's (plan "Starter", country "德国"), each with
    a choice of Tend's values, suggested where the match is obvious."""
    run = get_object_or_404(Import, pk=pk)
    if not run.path:
        return redirect("imports:detail", pk=run.pk)
    groups = file_values(run)
    error = ""
    if request.method == "POST":
        # The values come from the file, read again; the form only says what each becomes.
        chosen = {
            g.field: {r.value: request.POST.get(f"val_{g.field}_{r.index}", "") for r in g.rows}
            for g in groups
        }
        shown = {name: {norm(k) for k in pairs} for name, pairs in chosen.items()}
        kept = {
            name: {k: v for k, v in pairs.items() if norm(k) not in shown.get(name, set())}
            for name, pairs in (run.value_map or {}).items()
        }
        merged = {name: {**kept.get(name, {}), **chosen.get(name, {})} for name in {*kept, *chosen}}
        try:
            value_map = check_value_map(run.kind, merged)
        except ValueMapError as exc:
            error = str(exc)
        if not error and (run.is_active or run.status == ImportStatus.INTERRUPTED):
            error = _(
                "This import is running or interrupted; resume or cancel it before starting again."
            )
        if not error:
            Import.objects.filter(pk=run.pk).update(value_map=value_map)
            run.refresh_from_db()
            try:
                import_start(run=run, by=request.user, dry_run=True)  # type: ignore[arg-type]
            except (ImportStateError, MappingError) as exc:
                error = str(exc)
            else:
                return redirect("imports:detail", pk=run.pk)
    return render(
        request,
        "imports/values.html",
        {
            "run": run,
            "groups": groups,
            "error": error,
            "can_write": can_write(request.user),
            "options": run.options or {},
        },
        status=422 if error else 200,
    )


def _samples(run: Import) -> dict[int, str]:
    """The first non-empty value of each column, to help choose the mapping."""
    from itertools import islice

    from tend.ingest.imports.reading import open_table

    found: dict[int, str] = {}
    try:
        with open_table(Path(run.path), name=run.file_name) as table:
            for row in islice(table.rows, 20):
                for i, value in enumerate(row):
                    if i not in found and value not in (None, ""):
                        found[i] = str(value)[:60]
    except (OSError, ValueError):
        pass
    return found


def _detail_context(request: HttpRequest, run: Import) -> dict[str, object]:
    columns = {field: header for header, field in run.mapping.items() if field}
    return {
        "run": run,
        "problems": first_problems(run) if run.rejected else [],
        "reasons": [
            {"label": reason_label(code), "count": n}
            for code, n in sorted(run.reasons.items(), key=lambda kv: -kv[1])
        ],
        "cleaning": cleaning_lines(run.cleaning, columns),
        "can_write": can_write(request.user),
        "finished": run.status
        in {
            ImportStatus.PREVIEWED,
            ImportStatus.DONE,
            ImportStatus.FAILED,
            ImportStatus.INTERRUPTED,
            ImportStatus.CANCELED,
        },
        "stale_seconds": settings.TEND_IMPORT_STALE_SECONDS,
        # A finished check where no row can be imported: said plainly, with no Import button.
        "nothing_importable": run.status == ImportStatus.PREVIEWED
        and not run.accepted
        and (run.rejected > 0 or not run.rows_read),
    }


@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: progress while it runs, then the dry-run preview or the summary."""
    imports_interrupt_stale(pk=pk)  # its worker died: shown interrupted, with Resume and Cancel
    run = get_object_or_404(Import.objects.select_related("created_by"), pk=pk)
    return render(request, "imports/detail.html", _detail_context(request, run))


@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone, polled by htmx; the whole page reloads when the run ends (or is
    found interrupted)."""
    imports_interrupt_stale(pk=pk)
    run = get_object_or_404(Import, pk=pk)
    response = render(request, "imports/_progress.html", {"run": run})
    if not run.is_active:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def import_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the checked import for real, in the background."""
    user = require_write(request.user)
    run = get_object_or_404(Import, pk=pk)
    if run.status != ImportStatus.PREVIEWED or not run.path:
        return redirect("imports:detail", pk=run.pk)
    import_start(run=run, by=user, dry_run=False)
    return redirect("imports:detail", pk=run.pk)


@require_POST
def import_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Go on with an interrupted (or failed) import after its last committed batch."""
    user = require_write(request.user)
    run = get_object_or_404(Import, pk=pk)
    try:
        import_resume(run=run, by=user)
    except ImportStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Resuming the import after row %(rows)s; rows already stored are not stored again.")
            % {"rows": f"{run.rows_read:,}"},
        )
    return redirect("imports:detail", pk=run.pk)


@require_POST
def import_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop an import for good; what its committed batches stored stays."""
    user = require_write(request.user)
    run = get_object_or_404(Import, pk=pk)
    try:
        run = import_cancel(run=run, by=user)
    except ImportStateError as exc:
        messages.error(request, str(exc))
    else:
        if run.status == ImportStatus.CANCELED:
            messages.success(request, _("Import canceled."))
        else:
            messages.success(request, _("The import stops after the batch it is writing."))
    return redirect("imports:detail", pk=run.pk)


@require_GET
def import_rejected_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The refused rows with a reason column, streamed (there may be millions)."""
    run = get_object_or_404(Import, pk=pk)
    response = StreamingHttpResponse(
        rejected_csv_lines(run), content_type="text/csv; charset=utf-8"
    )
    stem = Path(run.file_name).stem or "import"
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=f"rejected-{run.pk}-{stem}.csv")
        or "attachment"
    )
    return response
