"""What the records of who did what say, in the staff's words: a reservation's timeline and
the audit log store a code per entry (`held`, `capacity_changed`); pages show its label and
its details, never the code.

Each app declares the codes it writes as a `TextChoices` (code, translatable label) and, for
those whose details matter, how to tell one entry's details (old and new values, amounts,
times), and registers them from its `AppConfig.ready` in the registry of the record it writes
to. A registry knows no app: the apps that write come to it, so a lower app (booking) never
imports a higher one (payments, panel_sync) to name their kinds.

An entry whose code nobody registered (an old row, a kind since retired) reads as a
translated "Other event", its code kept for a title attribute: never a crash, never a raw
code in the page's text.
"""

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import TextChoices
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# One entry's details, in the active language and time zone ("" when there is nothing to add).
Describe = Callable[[Any], str]


@dataclass(frozen=True)
class Kind:
    code: str
    label: str | Promise
    app: str
    describe: Describe | None = None


@dataclass(frozen=True)
class Described:
    """One entry as a page shows it."""

    code: str
    label: str
    details: str
    known: bool


class Kinds:
    """The registered kinds of one record, by code; `field` names the entry's code attribute."""

    def __init__(self, name: str, *, field: str):
        self.name = name
        self.field = field
        self._kinds: dict[str, Kind] = {}

    def register(
        self,
        app: str,
        choices: type[TextChoices],
        describe: Mapping[str, Describe] | None = None,
    ) -> None:
        """Register `app`'s codes (its `choices`) and how to tell some of them (`describe`,
        by code). A code another app registered already is refused: two apps would mean two
        different things by it."""
        describe = dict(describe or {})
        unknown = set(describe) - set(choices.values)
        if unknown:
            raise ValueError(f"{app} describes kinds it does not declare: {sorted(unknown)}")
        for code, label in choices.choices:
            known = self._kinds.get(code)
            if known is not None and known.app != app:
                raise ValueError(f"{self.name}: {code!r} is {known.app}'s, not {app}'s")
            self._kinds[code] = Kind(code, label, app, describe.get(code))

    def __contains__(self, code: object) -> bool:
        return code in self._kinds

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._kinds.values())

    def describe(self, entry: Any) -> Described:
        """The entry's label and details; an unknown code reads as "Other event"."""
        code = getattr(entry, self.field)
        kind = self._kinds.get(code)
        if kind is None:
            return Described(code, _("Other event"), "", known=False)
        try:
            details = kind.describe(entry) if kind.describe else ""
        except (KeyError, TypeError, ValueError):
            # A row written before its kind's data took today's shape: its label still reads.
            logger.warning(
                "%s: %r entry %s has data its description cannot read", self.name, code, entry.pk
            )
            details = ""
        return Described(code, str(kind.label), details, known=True)


class ActorNames:
    """Who acted, as the staff read it: staff are recorded by their e-mail, shown as it is;
    the platform's own actors (a periodic task, a provider's verified webhook) by a name each
    app registers with its label, from a `TextChoices` like the kinds."""

    def __init__(self) -> None:
        self._labels: dict[str, str | Promise] = {}

    def register(self, choices: type[TextChoices]) -> None:
        self._labels.update(choices.choices)

    def __call__(self, name: str) -> str:
        return str(self._labels.get(name, name))


# A reservation's timeline (booking.models.ReservationEvent.kind): booking, payments and
# panel sync write there.
TIMELINE_KINDS = Kinds("reservation timeline", field="kind")
# The audit log's actions (audit.models.AuditEntry.action): booking's catalogue and
# departures, tenants' team, and whatever other app records a staff action there.
AUDIT_ACTIONS = Kinds("audit log", field="action")
ACTOR_NAMES = ActorNames()


def old_to_new(old: object, new: object) -> str:
    """A change of value, as every description writes it."""
    return _("%(old)s → %(new)s") % {"old": old, "new": new}


class RecordedEntry:
    """A model whose rows are entries of a record: `kinds` is its registry."""

    kinds: Kinds

    @cached_property
    def described(self) -> Described:
        """The entry's label and details in the active language and time zone."""
        return self.kinds.describe(self)

    @property
    def actor_label(self) -> str:
        return ACTOR_NAMES(self.actor)
