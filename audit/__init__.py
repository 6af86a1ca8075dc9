"""The audit log of staff actions on an operator's catalogue, departures and team: who, when,
what. Any app may record an entry with `audit.services.audit_record`; it imports no other app
of the project. (Actions on one reservation go in that reservation's own timeline.)"""
