"""The operator's staff and their roles (owners only)."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from backoffice.common import actor, after_action, posted_id
from tenants.models import Membership, Role, StaffUser
from tenants.permissions import staff_required
from tenants.services import membership_grant, membership_revoke


class MemberForm(forms.Form):
    """A member to grant a role to, each text held to its column's length."""

    sub = forms.CharField(
        label=gettext_lazy("Identity provider subject (sub)"),
        max_length=StaffUser._meta.get_field("sub").max_length,
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail"), max_length=StaffUser._meta.get_field("email").max_length
    )
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)


@staff_required(role=Role.OWNER)
def team(request: HttpRequest) -> HttpResponse:
    form = MemberForm(request.POST if "grant" in request.POST else None)
    if request.method == "POST":
        if "remove" in request.POST:
            membership = get_object_or_404(
                Membership.objects.at(request.tenant), pk=posted_id(request, "remove")
            )
            try:
                membership_revoke(
                    operator=request.tenant, membership_id=membership.pk, actor=actor(request)
                )
            except ValueError:
                messages.error(request, _("You cannot remove yourself."))
            return after_action(request, request.path)
        if form.is_valid():
            membership = membership_grant(
                operator=request.tenant, actor=actor(request), **form.cleaned_data
            )
            messages.success(
                request,
                _("%(email)s is now %(role)s.")
                % {"email": membership.user.email, "role": membership.get_role_display()},
            )
            return after_action(request, request.path)
    members = Membership.objects.at(request.tenant).select_related("user").order_by("user__email")
    audit = AuditEntry.objects.all()[:30]
    return render(
        request,
        "backoffice/team.html",
        {"members": members, "form": form, "audit": audit},
        status=400 if form.errors else 200,
    )
