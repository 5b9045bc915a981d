"""Forms for the customer pages: list filters, notes, stage changes and tags."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tend.customers.models import Stage, TimelineKind
from tend.customers.queries import DEFAULT_SORT, NO_OWNER, SORTS, ListFilters

NOTE_KINDS = [
    (TimelineKind.NOTE.value, TimelineKind.NOTE.label),
    (TimelineKind.CALL.value, TimelineKind.CALL.label),
    (TimelineKind.EMAIL.value, TimelineKind.EMAIL.label),
    (TimelineKind.MEETING.value, TimelineKind.MEETING.label),
]


class CustomerFilterForm(forms.Form):
    """The customers list's GET parameters. Choices come from the caller (already-loaded
    plans, owners and tags), so validating them costs no query."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    plan = forms.ChoiceField(label=_("Plan"), required=False)
    owner = forms.ChoiceField(
        label=pgettext_lazy("person responsible for a customer", "Owner"), required=False
    )
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    sort = forms.CharField(required=False)

    def __init__(
        self,
        data: Any,
        *,
        plans: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        tags: list[str],
    ) -> None:
        super().__init__(data)
        self._choice("stage").choices = [("", _("All stages")), *Stage.choices]
        self._choice("plan").choices = [("", _("All plans")), *((str(i), n) for i, n in plans)]
        self._choice("owner").choices = [
            ("", _("Anyone")),
            (NO_OWNER, _("Nobody")),
            *((str(i), n) for i, n in owners),
        ]
        self._choice("tag").choices = [("", _("All tags")), *((t, t) for t in tags)]

    def _choice(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def filters(self) -> ListFilters:
        """The valid parameters as ListFilters; an invalid value is ignored, not an error."""
        self.is_valid()
        data = {
            name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors
        }
        raw_sort = (data.get("sort") or DEFAULT_SORT).strip()
        descending = raw_sort.startswith("-")
        sort = raw_sort.lstrip("-")
        if sort not in SORTS:
            sort, descending = DEFAULT_SORT, False
        owner: str = data.get("owner") or ""
        plan: str = data.get("plan") or ""
        return ListFilters(
            q=(data.get("q") or "").strip(),
            stage=data.get("stage") or "",
            plan=int(plan) if plan else None,
            owner=int(owner) if owner and owner != NO_OWNER else None,
            unowned=owner == NO_OWNER,
            tag=data.get("tag") or "",
            sort=sort,
            descending=descending,
        )


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=NOTE_KINDS, initial=TimelineKind.NOTE)
    body = forms.CharField(
        label=_("Note"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write something before saving the note.")},
    )

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("Write something before saving the note."))
        return body


class StageForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Lifecycle stage"),
        choices=Stage.choices,
        error_messages={
            "required": _("Choose a lifecycle stage."),
            "invalid_choice": _("“%(value)s” is not a lifecycle stage."),
        },
    )
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=200)


class TagsForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas. Leave empty to remove all tags."),
    )

    def clean_tags(self) -> list[str]:
        names = [n.strip() for n in self.cleaned_data["tags"].replace("，", ",").split(",")]
        names = [n for n in names if n]
        too_long = [n for n in names if len(n) > 50]
        if too_long:
            raise forms.ValidationError(
                _("Each tag can have at most 50 characters: “%(tag)s” is longer."),
                params={"tag": too_long[0]},
            )
        return sorted(set(names))


# --- the customers list's bulk actions ------------------------------------------------------

BULK_ACTIONS = [
    ("add_tag", _("Add tag")),
    ("remove_tag", _("Remove tag")),
    ("set_owner", pgettext_lazy("bulk action", "Set owner")),
    ("set_stage", _("Set stage")),
]


class BulkForm(forms.Form):
    """What to do with the selected customers. Field names carry the ``bulk-`` prefix so they
    never clash with the list's filters, which the same POST carries in ``query``."""

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[("", _("Choose an action…")), *BULK_ACTIONS],
        error_messages={"required": _("Choose what to do with the selected customers.")},
    )
    ids = forms.CharField(required=False)
    all_matching = forms.BooleanField(required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    owner = forms.ChoiceField(
        label=pgettext_lazy("person responsible for a customer", "Owner"), required=False
    )
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=200)

    def __init__(self, data: Any = None, *, owners: list[tuple[int, str]]) -> None:
        super().__init__(data, prefix="bulk")
        self._choice("owner").choices = [
            ("", _("Choose an owner…")),
            (NO_OWNER, _("Nobody (unassign)")),
            *((str(i), n) for i, n in owners),
        ]
        self._choice("stage").choices = [("", _("Choose a stage…")), *Stage.choices]

    def _choice(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def clean_ids(self) -> list[int]:
        raw = self.getlist("ids")
        try:
            ids = sorted({int(v) for v in raw if v.strip()})
            # Ids the database can hold; a huge number must not reach it (SQLite overflows).
            if any(not 1 <= pk <= 2**63 - 1 for pk in ids):
                raise ValueError
            return ids
        except ValueError:
            raise forms.ValidationError(
                _("The selection holds something that is not a customer.")
            ) from None

    def getlist(self, name: str) -> list[str]:
        key = self.add_prefix(name)
        if hasattr(self.data, "getlist"):
            return [str(v) for v in self.data.getlist(key)]
        value = self.data.get(key)
        return [str(v) for v in value] if isinstance(value, list) else [str(value or "")]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        action = data.get("action")
        if not data.get("all_matching") and not data.get("ids") and "ids" not in self.errors:
            self.add_error(
                None, _("Select customers first: tick their rows, or select all that match.")
            )
        if action in {"add_tag", "remove_tag"}:
            tag = (data.get("tag") or "").replace("，", ",").strip()
            if not tag:
                self.add_error("tag", _("Type the tag to add or remove."))
            elif "," in tag:
                self.add_error("tag", _("One tag at a time: a tag cannot contain a comma."))
            data["tag"] = tag
        if action == "set_owner" and not data.get("owner"):
            self.add_error("owner", _("Choose the new owner, or Nobody to unassign."))
        if action == "set_stage" and not data.get("stage"):
            self.add_error("stage", _("Choose the new stage."))
        return data


# --- acquisition channels -------------------------------------------------------------------


class ChannelForm(forms.Form):
    """Add a channel, or rename one (``name`` only)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        error_messages={"required": _("Give the channel a name.")},
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the channel a name."))
        return name
