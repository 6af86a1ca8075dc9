"""Operators (one PostgreSQL schema each) and their domains, provisioning by cloning the
template schema, and the staff: users keyed by the OIDC `sub`, memberships with roles, and
sign-in against Cognito. All in the public schema.

Start with `models`, then `services` (provisioning, memberships), `permissions` (who may do
what: `staff_required` for views, `staff_may` for services) and `auth` (the OIDC backend)."""
