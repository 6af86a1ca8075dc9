"""The photos page of an activity: managers and owners upload, order, describe and delete;
agents and other operators' staff cannot; whatever is sent, the answer is a page, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from booking.models import ActivityPhoto
from booking.photo_store import photo_keys
from tenants.models import Operator, Role
from tests.booking.test_photos import bucket_keys, gallery
from tests.factories import ALPHA_HOST, BETA_HOST, activity, photo, picture


def photos_url(activity_id: int) -> str:
    return f"/backoffice/activities/{activity_id}/photos/"


def test_a_manager_uploads_a_photo_and_finds_it_in_the_gallery(photo_store, staff, make_activity):
    boat = make_activity()
    manager = staff(Role.MANAGER)
    image = SimpleUploadedFile("pier.png", picture(1800, 1200, "PNG"), "image/png")

    response = manager.post(
        photos_url(boat.pk), {"upload": "1", "image": image, "alt": "The pier at dawn"}
    )

    assert response.status_code == 302
    (added,) = boat.photos.all()
    assert (added.alt, added.position, added.original_extension) == ("The pier at dawn", 0, "png")
    assert bucket_keys(photo_store) == set(photo_keys(added))
    page = manager.get(photos_url(boat.pk)).content.decode()
    assert "Photo added." in page
    assert 'alt="The pier at dawn"' in page and "Cover" in page


def test_owners_and_managers_have_the_page_agents_do_not(staff, make_activity):
    boat = make_activity()
    assert staff(Role.OWNER).get(photos_url(boat.pk)).status_code == 200
    assert staff(Role.MANAGER).get(photos_url(boat.pk)).status_code == 200
    agent = staff(Role.AGENT)
    assert agent.get(photos_url(boat.pk)).status_code == 403
    image = SimpleUploadedFile("a.jpg", picture(600, 400))
    assert agent.post(photos_url(boat.pk), {"upload": "1", "image": image}).status_code == 403
    assert not boat.photos.exists()
    anonymous = Client(HTTP_HOST=ALPHA_HOST)
    assert anonymous.get(photos_url(boat.pk))["Location"].startswith("/backoffice/login/")
    # The activities list links managers to it, not agents.
    assert (
        photos_url(boat.pk) in staff(Role.MANAGER).get("/backoffice/activities/").content.decode()
    )
    assert photos_url(boat.pk) not in agent.get("/backoffice/activities/").content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jpg", b"", "The submitted file is empty."),
        ("notes.jpg", b"a text file named .jpg", "This file is not a photo we can read."),
        ("cut.jpg", picture(800, 600)[:1500], "This file is not a photo we can read."),
        ("huge.png", None, "The photo has more than 40 megapixels."),
    ],
    ids=["empty", "text-named-jpg", "truncated", "huge-dimensions"],
)
def test_what_is_not_a_photo_is_refused_with_a_message(
    staff, make_activity, name, content, message
):
    from tests.booking.test_photo_images import claimed_size_png

    boat = make_activity()
    content = claimed_size_png(20_000, 20_000) if content is None else content
    response = staff(Role.MANAGER).post(
        photos_url(boat.pk), {"upload": "1", "image": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not boat.photos.exists()


def test_an_upload_without_a_file_is_refused_in_the_staff_members_language(staff, make_activity):
    boat = make_activity()
    manager = staff(Role.MANAGER)
    response = manager.post(photos_url(boat.pk), {"upload": "1"}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Este campo es obligatorio." in response.content.decode()
    response = manager.post(
        photos_url(boat.pk),
        {"upload": "1", "image": SimpleUploadedFile("x.jpg", b"texto")},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert "Este archivo no es una foto que podamos leer." in response.content.decode()


def test_a_malformed_multipart_body_is_a_bad_request(staff, make_activity):
    boat = make_activity()
    response = staff(Role.MANAGER).generic(
        "POST",
        photos_url(boat.pk),
        b'--xyz\r\nContent-Disposition: form-data; name="upload"\r\n\r\n1\r\n--xyz\r\nbroken',
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    assert not boat.photos.exists()


def test_a_store_that_does_not_answer_gets_503_with_retry_after(settings, staff, make_activity):
    options = settings.PHOTOS_STORAGE["OPTIONS"] | {"endpoint_url": "http://127.0.0.1:9"}
    settings.STORAGES = settings.STORAGES | {
        "photos": {**settings.PHOTOS_STORAGE, "OPTIONS": options}
    }
    boat = make_activity()
    response = staff(Role.MANAGER).post(
        photos_url(boat.pk),
        {"upload": "1", "image": SimpleUploadedFile("a.jpg", picture(600, 400))},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "The photo store did not answer" in response.content.decode()
    assert not boat.photos.exists()


def test_the_gallerys_buttons_order_describe_and_delete(
    photo_store, staff, make_activity, django_capture_on_commit_callbacks
):
    boat = make_activity()
    first, second, third = (photo(boat, width=500, height=400) for _ in range(3))
    manager = staff(Role.MANAGER)
    url = photos_url(boat.pk)

    assert manager.post(url, {"cover": third.pk}).status_code == 302
    assert gallery(boat) == [third.pk, first.pk, second.pk]
    manager.post(url, {"later": third.pk})
    assert gallery(boat) == [first.pk, third.pk, second.pk]
    manager.post(url, {"earlier": second.pk})
    assert gallery(boat) == [first.pk, second.pk, third.pk]

    manager.post(url, {"describe": second.pk, f"photo{second.pk}-alt_es": "Penguins on the beach"})
    assert ActivityPhoto.objects.get(pk=second.pk).alt == "Penguins on the beach"
    too_long = manager.post(url, {"describe": second.pk, f"photo{second.pk}-alt_es": "x" * 201})
    assert too_long.status_code == 400
    assert "at most 200 characters" in too_long.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        assert manager.post(url, {"delete": first.pk}).status_code == 302
    assert gallery(boat) == [second.pk, third.pk]
    assert bucket_keys(photo_store) == set(photo_keys(second)) | set(photo_keys(third))


@pytest.mark.parametrize(
    "data",
    [{}, {"cover": "abc"}, {"delete": ""}, {"later": "²"}],
    ids=["no-button", "not-an-id", "empty-id", "not-ascii"],
)
def test_a_post_without_a_gallery_button_and_id_is_a_bad_request(staff, make_activity, data):
    assert staff(Role.MANAGER).post(photos_url(make_activity().pk), data).status_code == 400


def test_a_photo_of_another_activity_is_not_found_here(photo_store, staff, make_activity):
    boat, trek = make_activity("boat"), make_activity("trek")
    trek_photo = photo(trek, width=500, height=400)
    response = staff(Role.MANAGER).post(photos_url(boat.pk), {"delete": trek_photo.pk})
    assert response.status_code == 404
    assert gallery(trek) == [trek_photo.pk]


def test_another_operators_photos_are_neither_shown_nor_deleted_through_its_site(
    photo_store, beta_owner, alpha, make_activity
):
    """Beta's staff and travellers, on Beta's site, asking for what Alpha has."""
    boat = make_activity("boat")
    alphas = photo(boat, width=500, height=400, alt="Alpha's boat")
    beta = Operator.objects.get(schema_name="beta")
    with tenant_context(beta):
        beta_boat = activity("boat")
        betas = photo(beta_boat, width=500, height=400, alt="Beta's boat")
        assert photo_keys(betas)[0].startswith("operators/beta/")
    assert photo_keys(alphas)[0].startswith("operators/alpha/")

    # Ids count per schema: take one of Alpha's that no photo of Beta has.
    target = alphas if alphas.pk != betas.pk else photo(boat, width=500, height=400)
    for action in ("delete", "cover", "later", "describe"):
        response = beta_owner.post(photos_url(beta_boat.pk), {action: target.pk})
        assert response.status_code == 404
    with tenant_context(alpha):  # a request leaves the connection on its site's schema
        assert ActivityPhoto.objects.filter(pk=target.pk).exists()
    with tenant_context(beta):
        assert gallery(beta_boat) == [betas.pk]

    beta_pages = [
        beta_owner.get(photos_url(beta_boat.pk)).content.decode(),
        Client(HTTP_HOST=BETA_HOST).get("/").content.decode(),
        Client(HTTP_HOST=BETA_HOST).get("/activities/boat/").content.decode(),
    ]
    for page in beta_pages:
        assert "operators/alpha/" not in page and "Alpha's boat" not in page
        assert "operators/beta/" in page
    with tenant_context(alpha):
        assert set(photo_keys(alphas)) <= bucket_keys(photo_store, "operators/alpha/")
