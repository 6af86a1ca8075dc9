"""An activity's photos: managers upload them (the first is the cover), put them in order,
describe them and delete them."""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from backoffice.common import actor, after_action, posted_id
from backoffice.forms import PhotoAltForm, PhotoUploadForm
from booking.models import Activity, ActivityPhoto
from booking.photos import (
    PhotoStoreUnavailable,
    photo_add,
    photo_delete,
    photo_move,
    photo_set_alt,
)
from tenants.models import Role
from tenants.permissions import staff_required

# Seconds before trying again when the photo store did not answer.
RETRY_AFTER_STORE = 30
GALLERY_ACTIONS = ("cover", "earlier", "later", "describe", "delete")


@staff_required(role=Role.MANAGER)
def activity_photos(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The gallery of one activity. The upload and each photo's buttons post here; the
    button's name says what to do and its value which photo."""
    activity = get_object_or_404(Activity, pk=activity_id)
    upload_form = PhotoUploadForm()
    invalid_alts: dict[int, PhotoAltForm] = {}
    status = 200
    if request.method == "POST" and "upload" in request.POST:
        upload_form = PhotoUploadForm(request.POST, request.FILES)
        if upload_form.is_valid():
            try:
                photo_add(
                    activity_id=activity.pk,
                    prepared=upload_form.prepared,
                    alt=upload_form.cleaned_data["alt"],
                    actor=actor(request),
                )
            except PhotoStoreUnavailable as unavailable:
                upload_form.add_error(None, unavailable.message)
                status = 503
            else:
                messages.success(request, _("Photo added."))
                return after_action(request, request.path)
        else:
            status = 400
    elif request.method == "POST":
        photo, action = _posted_photo(request, activity)
        if action != "describe":
            return _act(request, photo, action)
        form = PhotoAltForm.for_photo(photo, operator=request.tenant, data=request.POST)
        if form.is_valid():
            return _act(request, photo, action, alt=form.texts())
        invalid_alts[photo.pk] = form
        status = 400

    photos = [
        (
            photo,
            invalid_alts.get(photo.pk) or PhotoAltForm.for_photo(photo, operator=request.tenant),
        )
        for photo in activity.photos.all()
    ]
    context = {"activity": activity, "photos": photos, "upload_form": upload_form}
    response = render(request, "backoffice/activity_photos.html", context, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_STORE)
    return response


def _posted_photo(request: HttpRequest, activity: Activity) -> tuple[ActivityPhoto, str]:
    """The photo of this activity a button names, and what the button does; 400 for a post
    without one of the gallery's buttons, 404 for a photo that is not in this gallery."""
    action = next((name for name in GALLERY_ACTIONS if name in request.POST), None)
    if action is None:
        raise BadRequest("no gallery action posted")
    photo = get_object_or_404(ActivityPhoto, pk=posted_id(request, action), activity=activity)
    return photo, action


def _act(
    request: HttpRequest, photo: ActivityPhoto, action: str, alt: dict[str, str] | None = None
) -> HttpResponse:
    try:
        if action == "delete":
            photo_delete(photo_id=photo.pk, actor=actor(request))
            messages.success(request, _("Photo deleted."))
        elif action == "describe":
            photo_set_alt(photo_id=photo.pk, alt=alt or {}, actor=actor(request))
            messages.success(request, _("Description saved."))
        else:
            position = {"cover": 0, "earlier": photo.position - 1, "later": photo.position + 1}
            photo_move(photo_id=photo.pk, position=position[action], actor=actor(request))
            if action == "cover":
                messages.success(request, _("This photo is now the cover."))
    except ActivityPhoto.DoesNotExist:  # deleted by someone else meanwhile
        raise Http404 from None
    return after_action(request, request.path)
