from __future__ import annotations

from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _

from tend.ingest.imports.models import DateOrder, ImportKind

# .gz and .zip: a compressed CSV (told by its first bytes, not its name; see reading.py).
ALLOWED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".gz", ".zip"}
MAX_UPLOAD_BYTES = 2 * 1024**3


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=ImportKind.choices,
        help_text=_(
            "From Stripe: in the Dashboard open Customers or Subscriptions, choose Export, "
            "and upload the CSV as it is."
        ),
    )
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_("The first row must name the columns."),
    )
    date_order = forms.ChoiceField(
        label=_("Dates like 01/03/2024 mean"), choices=DateOrder.choices, initial=DateOrder.DMY
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(
                _("Upload a .csv or .xlsx file (a CSV may be gzipped or zipped).")
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 GB; use `tend import`."))
        return upload
