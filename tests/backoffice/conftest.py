"""Backoffice fixtures: staff of Alpha in each role, an owner of Beta, and their browsers.

Sign-in itself (through the OIDC provider) is tested in tests/tenants/test_identity.py;
here the test client is given a signed-in session directly."""

import pytest
from django.test import Client

from tenants.models import Operator, Role
from tenants.services import membership_grant
from tests.factories import ALPHA_HOST, BETA_HOST, SYSTEM


@pytest.fixture
def staff(alpha):
    """A test client signed in as a member of Alpha with the given role."""

    def signed_in(role: str = Role.OWNER, host: str = ALPHA_HOST) -> Client:
        membership = membership_grant(
            actor=SYSTEM,
            operator=alpha,
            sub=f"alpha-{role}",
            email=f"{role}@alpha.example",
            role=role,
        )
        client = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(membership.user)
        return client

    return signed_in


@pytest.fixture
def beta_owner(alpha) -> Client:
    """An owner of Beta (signed in on Beta's site), who has nothing at Alpha."""
    from django_tenants.utils import tenant_context

    beta = Operator.objects.get(schema_name="beta")
    membership = membership_grant(
        actor=SYSTEM, operator=beta, sub="beta-owner", email="owner@beta.example", role=Role.OWNER
    )
    client = Client(HTTP_HOST=BETA_HOST, HTTP_ACCEPT_LANGUAGE="en")
    with tenant_context(beta):
        client.force_login(membership.user)
    return client
