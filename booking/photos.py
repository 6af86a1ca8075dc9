"""An activity's gallery: the photos staff upload, their order (the first is the cover) and
their alternative text. Their objects are kept as booking.photo_store lays them out.

Objects are written before the row and removed after it (on commit): a store that fails leaves
no row pointing at nothing, and a row removed never waits on the store. What the store refuses
or does not answer within the AWS budget (settings.AWS_CLIENT_CONFIG) is PhotoStoreUnavailable.
"""

import logging
from collections.abc import Iterable

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from booking.content import Texts, as_texts, operator_language
from booking.errors import BookingError
from booking.images import PreparedPhoto
from booking.models import Activity, ActivityPhoto
from booking.photo_store import original_key, photo_keys, photo_storage, rendition_key
from tenants.actors import STAFF, SYSTEM, Actor, actor_require
from tenants.models import Role

logger = logging.getLogger(__name__)


class PhotoStoreUnavailable(BookingError):
    def __init__(self) -> None:
        super().__init__(
            _("The photo store did not answer, so nothing was changed. Please try again shortly.")
        )


def photo_add(
    *, activity_id: int, prepared: PreparedPhoto, alt: str | Texts, actor: Actor
) -> ActivityPhoto:
    """Store a checked upload (booking.images.prepare_photo) as the last photo of an activity's
    gallery (its cover if it is the first), described per language (one text: the operator's
    language). Staff from manager up, or the system (the demo).

    The objects are written first, outside any transaction; then, locking the activity's row
    (SELECT ... FOR NO KEY UPDATE, which every change of its gallery's order takes), the row
    is added at the end. If that fails, the objects are removed again.
    Raises PhotoStoreUnavailable, Activity.DoesNotExist."""
    actor_require(actor, STAFF, SYSTEM, role=Role.MANAGER)
    photo = ActivityPhoto(
        activity_id=activity_id,
        original_extension=prepared.extension,
        widths=[rendition.width for rendition in prepared.renditions],
        width=prepared.width,
        height=prepared.height,
        language=operator_language(),
    )
    photo.set_texts("alt", as_texts(alt))
    stored = _store(photo, prepared)
    try:
        with transaction.atomic():
            activity = _locked_activity(activity_id)
            photo.position = activity.photos.count()
            photo.save()
            audit_record(
                actor=str(actor),
                action="photo_added",
                target=str(activity),
                data={"photo": str(photo.uuid), "position": photo.position},
            )
    except BaseException:
        _remove_objects(stored)
        raise
    return photo


def photo_delete(*, photo_id: int, actor: Actor) -> None:
    """Remove a photo from its gallery; the others close the gap (the next one becomes the
    cover if it was the cover). Its objects are removed once this commits.

    Locks: the activity's row. Raises ActivityPhoto.DoesNotExist."""
    actor_require(actor, STAFF, SYSTEM, role=Role.MANAGER)
    with transaction.atomic():
        photo = ActivityPhoto.objects.get(pk=photo_id)
        activity = _locked_activity(photo.activity_id)
        keys = photo_keys(photo)
        photo.delete()
        _renumber(activity.photos.all())
        audit_record(
            actor=str(actor),
            action="photo_deleted",
            target=str(activity),
            data={"photo": str(photo.uuid)},
        )
        transaction.on_commit(lambda: _remove_objects(keys))


def photo_move(*, photo_id: int, position: int, actor: Actor) -> ActivityPhoto:
    """Put a photo at `position` in its gallery (0: the cover), the others keeping their order;
    a position past either end is that end.

    Locks: the activity's row. Raises ActivityPhoto.DoesNotExist."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    with transaction.atomic():
        activity_id = ActivityPhoto.objects.values_list("activity_id", flat=True).get(pk=photo_id)
        activity = _locked_activity(activity_id)
        gallery = list(activity.photos.all())
        photo = next(p for p in gallery if p.pk == photo_id)
        before = gallery.index(photo)
        gallery.remove(photo)
        gallery.insert(max(0, min(position, len(gallery))), photo)
        _renumber(gallery)
        if photo.position != before:
            audit_record(
                actor=str(actor),
                action="photo_moved",
                target=str(activity),
                data={"photo": str(photo.uuid), "from": before, "to": photo.position},
            )
    return photo


def photo_set_alt(*, photo_id: int, alt: str | Texts, actor: Actor) -> ActivityPhoto:
    """A photo's alternative text in every language at once (one text: the operator's
    language): what it shows, for travellers who cannot see it. Locks the photo's row."""
    actor_require(actor, STAFF, role=Role.MANAGER)
    texts = as_texts(alt)
    with transaction.atomic():
        photo = ActivityPhoto.objects.select_for_update(no_key=True).get(pk=photo_id)
        before = photo.texts("alt")
        photo.set_texts("alt", texts)
        photo.save(update_fields=["alt", "i18n"])
        audit_record(
            actor=str(actor),
            action="photo_alt_changed",
            target=str(photo.activity),
            data={"photo": str(photo.uuid), "from": before, "to": photo.texts("alt")},
        )
    return photo


def _locked_activity(activity_id: int) -> Activity:
    return Activity.objects.select_for_update(no_key=True).get(pk=activity_id)


def _renumber(gallery: Iterable[ActivityPhoto]) -> None:
    """Positions 0, 1, 2… in the given order; only the rows whose position changed are written."""
    changed = []
    for index, photo in enumerate(gallery):
        if photo.position != index:
            photo.position = index
            changed.append(photo)
    ActivityPhoto.objects.bulk_update(changed, ["position"])


def _store(photo: ActivityPhoto, prepared: PreparedPhoto) -> list[str]:
    storage = photo_storage()
    contents = [
        (rendition_key(photo, rendition.width), rendition.content)
        for rendition in prepared.renditions
    ] + [(original_key(photo), prepared.original)]
    stored: list[str] = []
    try:
        for key, content in contents:
            stored.append(storage.save(key, ContentFile(content)))
    except (BotoCoreError, ClientError) as exc:
        logger.warning("photo store refused or did not answer: %s", exc)
        _remove_objects(stored)
        raise PhotoStoreUnavailable from exc
    return stored


def _remove_objects(keys: list[str]) -> None:
    """Best effort: an object left behind costs storage, never a broken page."""
    storage = photo_storage()
    for key in keys:
        try:
            storage.delete(key)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("photo object %s left in the store: %s", key, exc)
