"""An activity's gallery (booking.photos) on moto's S3: where the objects go and who can read
them, the order and the cover, a store that does not answer, and the traveller's pages that
show them as responsive images."""

import re
import urllib.error
import urllib.request
from email.message import Message

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.images import prepare_photo
from booking.models import Activity, ActivityPhoto
from booking.photo_store import original_key, photo_keys, rendition_key, rendition_url
from booking.photos import PhotoStoreUnavailable, photo_add, photo_delete, photo_move
from tests.factories import SYSTEM, photo, picture, staff, upload


def bucket_keys(store, prefix: str = "operators/") -> set[str]:
    listing = store.connection.meta.client.list_objects_v2(Bucket=store.bucket_name, Prefix=prefix)
    return {item["Key"] for item in listing.get("Contents", [])}


def fetch(url: str) -> tuple[int, Message, bytes]:
    """What a browser gets for `url`, signed out."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, b""


def gallery(activity) -> list[int]:
    return list(activity.photos.order_by("position").values_list("pk", flat=True))


def test_renditions_are_public_and_cached_the_original_is_private(photo_store, make_activity):
    added = photo(make_activity(), width=2400, height=1600)

    keys = bucket_keys(photo_store)
    assert keys == set(photo_keys(added))
    assert all(key.startswith("operators/alpha/") for key in keys)
    assert added.widths == [480, 960, 1600] and (added.width, added.height) == (1600, 1067)

    status, headers, body = fetch(rendition_url(added, 960))
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert body[:3] == b"\xff\xd8\xff"
    original = photo_store.url(original_key(added))
    assert fetch(original)[0] == 403  # EXIF and all: never public


def test_the_first_photo_is_the_cover_and_staff_reorder_the_gallery(photo_store, make_activity):
    activity = make_activity()
    first, second, third = (photo(activity, width=500, height=400) for _ in range(3))
    assert [p.position for p in (first, second, third)] == [0, 1, 2]

    photo_move(photo_id=third.pk, position=0, actor=staff("manager"))
    assert gallery(activity) == [third.pk, first.pk, second.pk]
    photo_move(photo_id=third.pk, position=9, actor=staff("manager"))  # past the end: the end
    assert gallery(activity) == [first.pk, second.pk, third.pk]
    photo_move(photo_id=second.pk, position=-1, actor=staff("manager"))
    assert gallery(activity) == [second.pk, first.pk, third.pk]
    positions = list(activity.photos.order_by("position").values_list("position", flat=True))
    assert positions == [0, 1, 2]


def test_deleting_the_cover_makes_the_next_one_the_cover_and_removes_its_objects(
    photo_store, make_activity, django_capture_on_commit_callbacks
):
    activity = make_activity()
    cover, other = photo(activity, width=500, height=400), photo(activity, width=500, height=400)

    with django_capture_on_commit_callbacks(execute=True):
        photo_delete(photo_id=cover.pk, actor=staff("manager"))

    assert gallery(activity) == [other.pk]
    assert ActivityPhoto.objects.get(pk=other.pk).position == 0
    assert bucket_keys(photo_store) == set(photo_keys(other))


def test_agents_and_travellers_cannot_change_a_gallery(photo_store, make_activity):
    from django.core.exceptions import PermissionDenied

    added = photo(make_activity(), width=500, height=400)
    with pytest.raises(PermissionDenied):
        photo_delete(photo_id=added.pk, actor=staff("agent"))
    with pytest.raises(PermissionDenied):
        photo_move(photo_id=added.pk, position=0, actor=SYSTEM)
    assert ActivityPhoto.objects.filter(pk=added.pk).exists()


def test_a_store_that_does_not_answer_leaves_no_photo(settings, make_activity):
    options = settings.PHOTOS_STORAGE["OPTIONS"] | {"endpoint_url": "http://127.0.0.1:9"}
    settings.STORAGES = settings.STORAGES | {
        "photos": {**settings.PHOTOS_STORAGE, "OPTIONS": options}
    }
    activity = make_activity()
    prepared = prepare_photo(upload(picture(800, 600)))
    with pytest.raises(PhotoStoreUnavailable):
        photo_add(activity_id=activity.pk, prepared=prepared, alt="", actor=staff("manager"))
    assert not activity.photos.exists()


def test_objects_written_for_a_photo_whose_activity_is_gone_are_removed(photo_store, alpha):
    prepared = prepare_photo(upload(picture(800, 600)))
    with pytest.raises(Activity.DoesNotExist):
        photo_add(activity_id=987654, prepared=prepared, alt="", actor=SYSTEM)
    assert bucket_keys(photo_store) == set()


def img_tags(html: str) -> list[str]:
    return re.findall(r"<img [^>]*>", html)


def test_the_catalogue_shows_each_cover_as_a_responsive_image(
    photo_store, make_activity, alpha_client
):
    boat, trek = make_activity("boat"), make_activity("trek")
    cover = photo(boat, width=3000, height=2000, alt="The boat at the pier")
    photo(boat, width=600, height=400)  # not the cover: not on the catalogue
    trek_cover = photo(trek, width=1000, height=800, alt="The trail")

    html = alpha_client.get("/").content.decode()

    first, second = img_tags(html)
    base = rendition_url(cover, 480).removesuffix("480.jpg")
    assert f'srcset="{base}480.jpg 480w, {base}960.jpg 960w, {base}1600.jpg 1600w"' in first
    assert f'src="{base}960.jpg"' in first
    assert 'sizes="(min-width: 72rem) 18rem, (min-width: 40rem) 50vw, calc(100vw - 2rem)"' in first
    assert 'width="1600" height="1067"' in first
    assert 'alt="The boat at the pier"' in first
    assert 'loading="eager"' in first and 'fetchpriority="high"' in first
    assert rendition_key(trek_cover, 1000) in second
    assert 'loading="lazy"' in second and "fetchpriority" not in second


def test_the_activity_page_shows_the_cover_first_and_the_rest_lazily(
    photo_store, make_activity, alpha_client
):
    activity = make_activity()
    photo(activity, width=2000, height=1000, alt="Cover")
    second = photo(activity, width=800, height=600, alt="Second")
    photo(activity, width=800, height=600, alt="Third")

    html = alpha_client.get(f"/activities/{activity.slug}/").content.decode()
    tags = img_tags(html)

    assert [re.search(r'alt="([^"]*)"', tag)[1] for tag in tags] == ["Cover", "Second", "Third"]
    assert 'loading="eager"' in tags[0] and 'width="1600" height="800"' in tags[0]
    assert all('loading="lazy"' in tag and 'sizes="10rem"' in tag for tag in tags[1:])
    assert 'srcset="' in tags[1] and "480w" in tags[1] and 'width="800" height="600"' in tags[1]
    assert f'<a href="{rendition_url(second, 800)}"><img ' in html  # the picture at its widest


def test_the_public_pages_ask_the_same_queries_however_many_photos(
    photo_store, make_activity, alpha_client
):
    activity = make_activity()
    photo(activity, width=500, height=400)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alpha_client.get(path).status_code == 200
        return len(captured)

    before = (queries("/"), queries(f"/activities/{activity.slug}/"))
    photo(activity, width=500, height=400)
    photo(make_activity("trek"), width=500, height=400)
    assert (queries("/"), queries(f"/activities/{activity.slug}/")) == before


def test_the_pages_allow_images_from_the_photo_store(alpha_client, settings, db):
    policy = alpha_client.get("/")["Content-Security-Policy"]
    assert f"img-src 'self' data: https: {settings.PHOTOS_ORIGIN}" in policy
