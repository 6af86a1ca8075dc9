"""Provisioning of operators (a schema cloned from the migrated template, and a domain), and
of the staff who may sign in to their backoffices."""

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from audit.services import audit_record
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Domain, Membership, Operator, Role, StaffUser
from tenants.records import TeamAction


def operator_create(
    *,
    schema_name: str,
    name: str,
    domain: str,
    time_zone: str = "America/Argentina/Ushuaia",
    default_currency: str = "ARS",
    locale: str = "es",
    brand_name: str = "",
    accent_colour: str = "#0f766e",
    logo_url: str = "",
    contact_email: str = "",
    actor: Actor,
) -> Operator:
    """Create an operator ready to sell: its schema (cloned from the template schema, which is
    far faster than running every migration) and its primary domain, in one transaction. The
    platform provisions operators (the system), never an operator's own staff."""
    actor_require(actor, SYSTEM)
    operator = Operator(
        schema_name=schema_name,
        name=name,
        time_zone=time_zone,
        default_currency=default_currency,
        locale=locale,
        brand_name=brand_name,
        accent_colour=accent_colour,
        logo_url=logo_url,
        contact_email=contact_email,
    )
    primary_domain = Domain(domain=domain, is_primary=True)
    operator.full_clean()
    primary_domain.full_clean(exclude=["tenant"])
    with transaction.atomic():
        operator.save(verbosity=0)
        _restore_constraint_names(source=settings.TENANT_BASE_SCHEMA, clone=schema_name)
        primary_domain.tenant = operator
        primary_domain.save()
    return operator


def _restore_constraint_names(*, source: str, clone: str) -> None:
    """The clone of a schema gets new names for UNIQUE constraints (``<table>_<cols>_key``);
    Django's migrations drop and alter named constraints by name, so give them back the
    template's names. Matched by table and definition."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT cls.relname, cloned.conname, original.conname
            FROM pg_constraint original
            JOIN pg_class cls ON cls.oid = original.conrelid
            JOIN pg_namespace source ON source.oid = cls.relnamespace AND source.nspname = %s
            JOIN pg_namespace target ON target.nspname = %s
            JOIN pg_class cloned_cls
              ON cloned_cls.relnamespace = target.oid AND cloned_cls.relname = cls.relname
            JOIN pg_constraint cloned
              ON cloned.conrelid = cloned_cls.oid AND cloned.contype = original.contype
             AND pg_get_constraintdef(cloned.oid) = pg_get_constraintdef(original.oid)
            WHERE original.contype = 'u' AND cloned.conname <> original.conname
            """,
            [source, clone],
        )
        for table, cloned_name, original_name in cursor.fetchall():
            cursor.execute(
                f'ALTER TABLE "{clone}"."{table}" RENAME CONSTRAINT "{cloned_name}" '
                f'TO "{original_name}"'
            )


def public_site_ensure() -> Operator:
    """The public schema's own row and domains (the platform's landing page)."""
    public, _ = Operator.objects.get_or_create(
        schema_name="public", defaults={"name": "Andes Booking"}
    )
    for index, domain in enumerate(settings.PUBLIC_DOMAINS):
        Domain.objects.get_or_create(
            domain=domain.strip(), defaults={"tenant": public, "is_primary": index == 0}
        )
    return public


def tenant_template_refresh(*, verbosity: int = 0) -> None:
    """Create the template schema new operators are cloned from and bring it up to the latest
    migrations. Run after every migration change, or new operators come out stale."""
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{template}"')
    call_command(
        "migrate_schemas", tenant=True, schema_name=template, interactive=False, verbosity=verbosity
    )
    connection.set_schema_to_public()


def staff_user_upsert(*, sub: str, email: str, name: str) -> StaffUser:
    """The staff user with this `sub`, created or brought up to date with the identity
    provider's e-mail and name (on every sign-in). Takes no lock: concurrent first sign-ins
    of one person meet on the unique `sub` (get_or_create retries the read)."""
    email = StaffUser.objects.normalize_email(email)
    user, created = StaffUser.objects.get_or_create(
        sub=sub, defaults={"email": email, "name": name, "password": make_password(None)}
    )
    if not created and (user.email, user.name) != (email, name):
        user.email, user.name = email, name
        user.save(update_fields=["email", "name"])
    return user


def membership_grant(
    *, operator: Operator, sub: str, email: str, role: str, actor: Actor, name: str = ""
) -> Membership:
    """Give the staff user `sub` (created if new) the `role` at `operator`, replacing the role
    they had there, and record it in the operator's audit log (an owner of the operator, or
    the system: provisioning, `manage.py add_staff`). Their e-mail and name are refreshed
    from the provider at each sign-in."""
    actor_require(actor, STAFF, SYSTEM, role=Role.OWNER)
    role = Role(role)
    if operator.schema_name == get_public_schema_name():
        raise ValueError("the platform's own site has no backoffice")
    with transaction.atomic():
        user = StaffUser.objects.filter(sub=sub).first() or StaffUser.objects.create_user(
            sub, email, name
        )
        membership, _ = Membership.objects.update_or_create(
            user=user, operator=operator, defaults={"role": role}
        )
        with schema_context(operator.schema_name):
            audit_record(
                actor=str(actor),
                action=TeamAction.MEMBER_GRANTED,
                target=user.email,
                data={"role": role},
            )
    return membership


def membership_revoke(*, operator: Operator, membership_id: int, actor: Actor) -> Membership:
    """End a member's access to `operator` (an owner of it; never their own access, so an
    operator keeps an owner), and record it in the operator's audit log."""
    actor_require(actor, STAFF, role=Role.OWNER)
    with transaction.atomic():
        membership = Membership.objects.select_related("user").get(
            pk=membership_id, operator=operator
        )
        if membership.user_id == actor.membership.user_id:
            raise ValueError("staff cannot remove their own access")
        membership.delete()
        with schema_context(operator.schema_name):
            audit_record(
                actor=str(actor), action=TeamAction.MEMBER_REMOVED, target=membership.user.email
            )
    return membership
