"""Forms for the customer pages: list filters, notes, stage changes, tags, and creating and
editing customers and contacts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tend.accounts.models import User
from tend.api.parsing import text_problem
from tend.billing.models import Plan
from tend.customers.channels import channel_choices
from tend.customers.countries import country_choices
from tend.customers.models import Customer, Kind, MarketingConsent, Stage, TimelineKind
from tend.customers.queries import DEFAULT_SORT, NO_OWNER, SORTS, ListFilters
from tend.customers.traits import MAX_KEYS, traits_problems

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
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    sort = forms.CharField(required=False)

    def __init__(
        self,
        data: Any,
        *,
        plans: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        tags: list[str],
        segments: Sequence[tuple[int, str]] = (),
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
        self._choice("segment").choices = [
            ("", _("All customers")),
            *((str(i), n) for i, n in segments),
        ]

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
        segment: str = data.get("segment") or ""
        return ListFilters(
            q=(data.get("q") or "").strip(),
            stage=data.get("stage") or "",
            plan=int(plan) if plan else None,
            owner=int(owner) if owner and owner != NO_OWNER else None,
            unowned=owner == NO_OWNER,
            tag=data.get("tag") or "",
            segment=int(segment) if segment else None,
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


# --- Creating and editing customers and contacts -------------------------------------------

# The largest count a PositiveIntegerField holds on every database.
MAX_SIZE = 2_147_483_647
# Trait values a person can type: text, a number or true/false (nested values are the API's).
TRAIT_TYPES = [
    ("text", pgettext_lazy("trait value type", "Text")),
    ("number", pgettext_lazy("trait value type", "Number")),
    ("boolean", pgettext_lazy("trait value type", "Yes/no")),
]
TRUE_WORDS = {"true", "yes", "1", "是", "y"}
FALSE_WORDS = {"false", "no", "0", "否", "n"}
MAX_TRAIT_NUMBER = 10**15


def offered_plans(current: Plan | None = None) -> QuerySet[Plan]:
    """Plans a customer can be put on, plus the one it is on now (even if no longer offered)."""
    offered = Plan.objects.offered()
    if current is not None:
        offered = offered | Plan.objects.filter(pk=current.pk)
    return offered.order_by("name")


def _user_label(user: User) -> str:
    return user.get_full_name() or user.username


class OwnerChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return _user_label(obj)


class TraitRowsWidget(forms.Widget):
    """Reads the editor's rows: parallel ``traits_key``, ``traits_value``, ``traits_type`` lists."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[tuple[str, str, str]]:
        getlist = getattr(data, "getlist", None)
        if getlist is None:
            return []
        keys, values, types = (getlist(f"{name}_{part}") for part in ("key", "value", "type"))
        length = max(len(keys), len(values), len(types))
        pad = [""] * length
        columns = ((keys + pad)[:length], (values + pad)[:length], (types + pad)[:length])
        return list(zip(*columns, strict=True))

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False


def _trait_value(key: str, raw: str, kind: str) -> tuple[Any, str | None]:
    """The stored value of one row, or an error message."""
    shown = key[:40]
    if kind == "number":
        try:
            number = Decimal(raw.strip().replace(",", ""))
        except InvalidOperation:
            return None, _("“%(key)s”: “%(value)s” is not a number.") % {
                "key": shown,
                "value": raw[:40],
            }
        if not number.is_finite() or abs(number) >= MAX_TRAIT_NUMBER:
            return None, _("“%(key)s”: a number must be finite and below 10^15.") % {"key": shown}
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if kind == "boolean":
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True, None
        if word in FALSE_WORDS:
            return False, None
        return None, _("“%(key)s”: a yes/no trait takes “true” or “false”.") % {"key": shown}
    if kind == "text":
        return raw, None
    return None, _("“%(key)s”: “%(type)s” is not a trait type (text, number or yes/no).") % {
        "key": shown,
        "type": kind[:20],
    }


class TraitsField(forms.Field):
    """Key/value rows → a flat dict; every problem of every row is reported at once."""

    widget = TraitRowsWidget

    def to_python(self, value: Any) -> dict[str, Any]:
        rows: list[tuple[str, str, str]] = value or []
        traits: dict[str, Any] = {}
        seen: set[str] = set()
        problems: list[str] = []
        if len(rows) > MAX_KEYS * 2:
            raise forms.ValidationError(
                _("At most %(max)d traits; this has %(count)d.")
                % {"max": MAX_KEYS, "count": len(rows)}
            )
        for key, raw, kind in rows:
            key = key.strip()
            if not key and not raw.strip():
                continue  # an empty row
            bad = text_problem(key) or text_problem(raw)
            if bad is not None:
                problems.append(
                    _("“%(key)s”: %(problem)s")
                    % {
                        "key": key[:40],
                        "problem": _("NUL characters and lone surrogates are not allowed."),
                    }
                )
                continue
            if not key:
                problems.append(
                    _("The value “%(value)s” needs a trait name.") % {"value": raw[:40]}
                )
                continue
            if key in seen:
                problems.append(_("“%(key)s” is given twice.") % {"key": key[:40]})
                continue
            seen.add(key)
            stored, problem = _trait_value(key, raw, kind or "text")
            if problem:
                problems.append(problem)
            else:
                traits[key] = stored
        problems.extend(traits_problems(traits, flat=True))
        if problems:
            raise forms.ValidationError([forms.ValidationError(p) for p in problems])
        return traits


def trait_rows(traits: dict[str, Any]) -> list[dict[str, str]]:
    """The editor's rows for a customer's flat traits (nested ones are kept, not shown)."""
    rows = []
    for key, value in traits.items():
        if isinstance(value, bool):
            rows.append({"key": key, "value": "true" if value else "false", "type": "boolean"})
        elif isinstance(value, int | float):
            rows.append({"key": key, "value": str(value), "type": "number"})
        elif isinstance(value, str):
            rows.append({"key": key, "value": value, "type": "text"})
    return rows


def nested_traits(traits: dict[str, Any]) -> dict[str, Any]:
    """Traits the editor cannot show as one row (objects, lists, null): kept as they are."""
    return {
        k: v for k, v in traits.items() if v is None or not isinstance(v, str | int | float | bool)
    }


def _tag_names(text: str) -> list[str]:
    names = [n.strip() for n in text.replace("，", ",").split(",")]
    return sorted({n for n in names if n})


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, and ``is-invalid`` plus ``aria-invalid`` on each
    field with an error once the form is validated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["aria-describedby"] = f"{self[name].auto_id}-errors"


class CustomerForm(StyledForm):
    """Every field of a customer a person may set; all errors are reported at once."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.COMPANY)
    name = forms.CharField(label=_("Name"), max_length=200)
    external_id = forms.CharField(
        label=_("External id"),
        max_length=120,
        required=False,
        help_text=_("The id in your own system or CRM; must be unique."),
    )
    email = forms.EmailField(
        label=pgettext_lazy("email address", "Email"), required=False, max_length=254
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=80, required=False)
    size = forms.IntegerField(label=_("Employees"), min_value=0, max_value=MAX_SIZE, required=False)
    country = forms.ChoiceField(
        label=_("Country"),
        required=False,
        error_messages={
            "invalid_choice": _("“%(value)s” is not an ISO 3166-1 country code (such as DE or CN).")
        },
    )
    plan = forms.ModelChoiceField(
        label=_("Plan"), queryset=Plan.objects.none(), required=False, empty_label="—"
    )
    channel = forms.ChoiceField(
        label=_("Acquisition channel"),
        required=False,
        error_messages={
            "invalid_choice": _("“%(value)s” is not one of your acquisition channels.")
        },
    )
    acquisition_cost = forms.DecimalField(
        label=_("Acquisition cost"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=_("What winning this customer cost, in %(currency)s."),
    )
    owner = OwnerChoiceField(
        label=pgettext_lazy("person responsible for a customer", "Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label="—",
    )
    referred_by = forms.ModelChoiceField(
        label=_("Referred by"),
        queryset=Customer.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That customer does not exist (any more).")},
    )
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    signed_up = forms.DateField(
        label=_("Signed up"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas."),
    )
    traits = TraitsField(label=_("Traits"), required=False)

    def __init__(self, data: Any = None, *, instance: Customer | None = None) -> None:
        self.instance = instance
        initial: dict[str, Any] = {}
        if instance is not None:
            initial = {
                "kind": instance.kind,
                "name": instance.name,
                "external_id": instance.external_id or "",
                "email": instance.email,
                "phone": instance.phone,
                "industry": instance.industry,
                "size": instance.size,
                "country": instance.country,
                "plan": instance.plan_id,
                "channel": instance.channel,
                "acquisition_cost": instance.acquisition_cost,
                "owner": instance.owner_id,
                "referred_by": instance.referred_by_id,
                "birthday": instance.birthday,
                "signed_up": timezone.localdate(instance.signed_up_at),
                "tags": ", ".join(t.name for t in instance.tags.all()),
            }
        super().__init__(data, initial=initial)
        cast(forms.ModelChoiceField, self.fields["plan"]).queryset = offered_plans(
            instance.plan if instance is not None else None
        )
        owners = Q(is_active=True)
        if instance is not None and instance.owner_id:
            owners |= Q(pk=instance.owner_id)
        owner_field = cast(forms.ModelChoiceField, self.fields["owner"])
        owner_field.queryset = User.objects.filter(owners).order_by("username")
        self._choice("country").choices = [("", "—"), *country_choices()]
        channels = channel_choices()
        if instance is not None and instance.channel and instance.channel not in dict(channels):
            channels.append((instance.channel, instance.channel_label))  # archived since
        self._choice("channel").choices = [("", "—"), *channels]
        self.fields["acquisition_cost"].help_text = str(
            self.fields["acquisition_cost"].help_text
        ) % {"currency": settings.TEND_CURRENCY}

    def _choice(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    def clean_country(self) -> str:
        return str(self.cleaned_data.get("country") or "").upper()

    def clean_external_id(self) -> str | None:
        return str(self.cleaned_data.get("external_id") or "").strip() or None

    def clean_referred_by(self) -> Customer | None:
        referrer: Customer | None = self.cleaned_data.get("referred_by")
        if referrer is not None and self.instance is not None and referrer.pk == self.instance.pk:
            raise forms.ValidationError(_("A customer cannot refer itself."))
        return referrer

    def clean_tags(self) -> list[str]:
        names = _tag_names(self.cleaned_data.get("tags") or "")
        too_long = [n for n in names if len(n) > 50]
        if too_long:
            raise forms.ValidationError(
                _("Each tag can have at most 50 characters: “%(tag)s” is longer."),
                params={"tag": too_long[0][:60]},
            )
        return names

    def trait_rows(self) -> list[dict[str, str]]:
        """Rows for the traits editor: what was posted, else the customer's traits."""
        if self.is_bound:
            rows = self.fields["traits"].widget.value_from_datadict(self.data, None, "traits")
            posted = [{"key": k, "value": v, "type": t or "text"} for k, v, t in rows]
            return [r for r in posted if r["key"] or r["value"]]
        return trait_rows(self.instance.traits) if self.instance is not None else []

    def kept_traits(self) -> dict[str, Any]:
        return nested_traits(self.instance.traits) if self.instance is not None else {}

    def action_fields(self) -> dict[str, Any]:
        """The cleaned values as keyword arguments of customer_create / customer_update."""
        data = self.cleaned_data
        fields: dict[str, Any] = {
            name: data[name]
            for name in (
                "kind",
                "name",
                "external_id",
                "email",
                "phone",
                "industry",
                "size",
                "country",
                "plan",
                "channel",
                "acquisition_cost",
                "owner",
                "referred_by",
                "birthday",
            )
        }
        fields["traits"] = {**self.kept_traits(), **data["traits"]}
        signed_up: date | None = data.get("signed_up")
        current = self.instance.signed_up_at if self.instance is not None else None
        if signed_up is None:
            if current is None:
                fields["signed_up_at"] = timezone.now()
        elif current is None or timezone.localdate(current) != signed_up:
            # A changed day starts at midnight where the founder is; an unchanged one keeps
            # its time, so saving the form without touching it changes nothing.
            fields["signed_up_at"] = timezone.make_aware(
                datetime.combine(signed_up, time.min), timezone.get_current_timezone()
            )
        return fields


class ContactForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    email = forms.EmailField(
        label=pgettext_lazy("email address", "Email"), max_length=254, required=False
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)
    # Empty (a client that does not send it): left as it is.
    marketing_consent = forms.ChoiceField(
        label=_("Marketing emails"),
        choices=MarketingConsent.choices,
        required=False,
        help_text=_(
            "Whether this person agreed to outreach emails. “Withdrawn” stops every playbook "
            "and outreach email to the address; the unsubscribe link in each email sets it."
        ),
    )


class DeleteCustomerForm(StyledForm):
    confirm = forms.CharField(label=_("Type the customer's name to confirm"), max_length=200)

    def __init__(self, data: Any = None, *, customer: Customer) -> None:
        super().__init__(data)
        self.customer = customer

    def clean_confirm(self) -> str:
        typed = " ".join(str(self.cleaned_data.get("confirm") or "").split())
        if typed != " ".join(self.customer.name.split()):
            raise forms.ValidationError(
                _("Type the name exactly as shown (“%(name)s”) to delete this customer."),
                params={"name": self.customer.name},
            )
        return typed


class PickerSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True)
    exclude = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
