"""The demo's photos in moto's S3: the bucket, with production's policy, and the galleries of
the demo activities (demo.pictures), uploaded through the product's own checks and services."""

import json

from botocore.exceptions import ClientError
from django.core.files.uploadedfile import SimpleUploadedFile

from booking.images import prepare_photo
from booking.models import Activity
from booking.photo_store import photo_bucket_policy, photo_storage, rendition_key
from booking.photos import photo_add, photo_delete
from demo.pictures import DEMO_GALLERIES, jpeg
from tenants.actors import Actor


def photo_bucket_ensure() -> None:
    """The photos bucket, created if missing, its renditions readable by anyone as in
    production (booking.photo_store.photo_bucket_policy)."""
    storage = photo_storage()
    client = storage.connection.meta.client
    try:
        client.head_bucket(Bucket=storage.bucket_name)
    except ClientError:
        client.create_bucket(Bucket=storage.bucket_name)
    policy = photo_bucket_policy(storage.bucket_name)
    client.put_bucket_policy(Bucket=storage.bucket_name, Policy=json.dumps(policy))


def demo_galleries_seed(*, actor: Actor) -> None:
    """In the operator's schema in use: each demo activity's gallery, unless its photos are
    all in the store. moto keeps objects in memory only, so after a restart of the demo the
    rows of the photos it forgot are removed and the demo's own pictures uploaded again."""
    storage = photo_storage()
    for slug, pictures in DEMO_GALLERIES.items():
        activity = Activity.objects.filter(slug=slug).first()
        if activity is None:
            continue
        photos = list(activity.photos.all())
        if photos and all(storage.exists(rendition_key(p, p.widths[-1])) for p in photos):
            continue
        for photo in photos:
            photo_delete(photo_id=photo.pk, actor=actor)
        for draw, alt in pictures:
            upload = SimpleUploadedFile(f"{draw.__name__}.jpg", jpeg(draw), "image/jpeg")
            photo_add(activity_id=activity.pk, prepared=prepare_photo(upload), alt=alt, actor=actor)
