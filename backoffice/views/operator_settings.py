"""The operator's settings (owners only): how travellers reach it, and the address its e-mails
are sent from (verified at SES before it is used). Saving and verifying are two buttons of one
form; each change is in the audit log below it."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from backoffice.common import actor, after_action
from tenants.models import PAYMENT_MINUTES_MAX, PAYMENT_MINUTES_MIN, Operator, Role
from tenants.operator_settings import (
    EDITABLE,
    SesUnavailable,
    operator_sender_verify,
    operator_settings_update,
)
from tenants.permissions import staff_required
from tenants.records import SettingsAction

AUDIT_SHOWN = 20


class OperatorSettingsForm(forms.ModelForm):
    class Meta:
        model = Operator
        fields = EDITABLE
        labels = {
            "contact_email": gettext_lazy("E-mail for travellers"),
            "contact_phone": gettext_lazy("Phone for travellers"),
            "sender_email": gettext_lazy("Send the e-mails from"),
        }
        help_texts = {
            "contact_email": gettext_lazy(
                "Shown on the confirmation; replies to the e-mails go here."
            ),
            "contact_phone": gettext_lazy(
                "Shown on the confirmation page and e-mail, e.g. +54 9 2901 555-0100."
            ),
            "sender_email": gettext_lazy(
                "Your own address, e.g. reservas@your-domain. It is used once it is verified."
            ),
        }
        widgets = {
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "contact_phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "sender_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "payment_minutes": forms.NumberInput(attrs={"inputmode": "numeric"}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The model's bounds (its validators) in the browser too: the field says only >= 0.
        minutes = self.fields["payment_minutes"].widget.attrs
        minutes.update(min=PAYMENT_MINUTES_MIN, max=PAYMENT_MINUTES_MAX)

    def clean(self):
        cleaned = super().clean()
        for name in ("contact_email", "sender_email"):
            if cleaned.get(name):
                cleaned[name] = cleaned[name].strip().lower()
        if "contact_phone" in cleaned:
            cleaned["contact_phone"] = " ".join(cleaned["contact_phone"].split())
        return cleaned


@staff_required(role=Role.OWNER)
def operator_settings(request: HttpRequest) -> HttpResponse:
    operator = request.tenant
    # An unbound copy: a refused form must not change what the page says is in use.
    form = OperatorSettingsForm(
        request.POST if "save" in request.POST else None,
        instance=Operator.objects.get(pk=operator.pk),
    )
    if request.method == "POST":
        if "verify" in request.POST:
            _verify(request, operator)
            return after_action(request, request.path)
        if form.is_valid():
            values = {name: form.cleaned_data[name] for name in EDITABLE}
            changed = operator_settings_update(
                operator=operator, actor=actor(request), values=values
            )
            messages.success(request, _("Settings saved.") if changed else _("Nothing changed."))
            return after_action(request, request.path)
    audit = AuditEntry.objects.filter(action__in=SettingsAction.values)[:AUDIT_SHOWN]
    return render(
        request,
        "backoffice/settings.html",
        {
            "form": form,
            "audit": audit,
            "from_address": operator.email_from(),
            "reply_to": operator.email_reply_to(),
        },
        status=400 if form.errors else 200,
    )


def _verify(request: HttpRequest, operator: Operator) -> None:
    if not operator.sender_email:
        messages.error(request, _("Enter the sender address first, and save it."))
        return
    try:
        check = operator_sender_verify(operator=operator, actor=actor(request))
    except SesUnavailable:
        messages.error(request, _("Amazon SES did not answer. Nothing changed: try again."))
        return
    if check.verified:
        messages.success(
            request,
            _("%(address)s is verified: your e-mails are sent from it.")
            % {"address": check.address},
        )
    else:
        messages.warning(
            request,
            _(
                "Amazon SES sent a message to %(address)s. Open the link in it, then press "
                "Verify again. Until then your e-mails are sent from the platform's address."
            )
            % {"address": check.address},
        )
