"""Where activity photos are kept: one bucket for every operator (settings.PHOTOS_STORAGE),
each operator under its own prefix.

    operators/<schema>/photos/<uuid>/<width>.jpg   the renditions, public (photo_bucket_policy)
    operators/<schema>/originals/<uuid>.<ext>      the upload as it came, private

The prefix is the schema in use, never anything a request or a row says: a photo row lives in
its operator's schema, so another operator's site can neither find it nor name its objects.
"""

from django.core.files.storage import Storage, storages
from django.db import connection
from django_tenants.utils import get_public_schema_name

from booking.models import ActivityPhoto

PHOTOS_STORAGE_ALIAS = "photos"


def photo_bucket_policy(bucket: str) -> dict:
    """The bucket policy that makes renditions, and nothing else, readable by anyone: applied
    to the production bucket by its owners, and to moto's by the demo and the tests."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicActivityPhotoRenditions",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/operators/*/photos/*",
            }
        ],
    }


def photo_storage() -> Storage:
    return storages[PHOTOS_STORAGE_ALIAS]


def operator_prefix() -> str:
    """The current operator's folder in the bucket, from the schema in use."""
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError("photos belong to an operator: no operator's schema is in use")
    return f"operators/{schema}/"


def rendition_key(photo: ActivityPhoto, width: int) -> str:
    return f"{operator_prefix()}photos/{photo.uuid.hex}/{width}.jpg"


def original_key(photo: ActivityPhoto) -> str:
    return f"{operator_prefix()}originals/{photo.uuid.hex}.{photo.original_extension}"


def photo_keys(photo: ActivityPhoto) -> list[str]:
    return [rendition_key(photo, width) for width in photo.widths] + [original_key(photo)]


def rendition_url(photo: ActivityPhoto, width: int) -> str:
    return photo_storage().url(rendition_key(photo, width))


def photo_srcset(photo: ActivityPhoto) -> str:
    """`srcset` of an <img>: every rendition with its width."""
    return ", ".join(f"{rendition_url(photo, width)} {width}w" for width in photo.widths)


def fallback_width(photo: ActivityPhoto) -> int:
    """The rendition in `src`, for what reads no `srcset`: the middle one."""
    return photo.widths[len(photo.widths) // 2]
