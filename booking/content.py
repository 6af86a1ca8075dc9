"""The operator's own content (activity and rate texts) in several languages.

django-modeltrans keeps each row's translations in one JSONB column, `i18n`, beside the plain
columns, which hold the text in settings.LANGUAGE_CODE: reading a row costs no join and no
extra query, a language added to settings.LANGUAGES needs no migration, and it is plain
PostgreSQL, schema by schema. `name_i18n` (and so on) reads the active language's text, else
the text in the row's own `language` (the operator's, required when it is written), else the
first one found along settings.MODELTRANS_FALLBACK.
"""

from collections.abc import Mapping

from django.conf import settings
from django.db import connection, models
from modeltrans.utils import build_localized_fieldname

# A text per language code ("es", "pt-br", "en"); a missing or empty one is not written.
Texts = Mapping[str, str]


def content_languages() -> list[str]:
    """The languages an operator writes its content in: the site's, in their order."""
    return [code for code, _name in settings.LANGUAGES]


def operator_language() -> str:
    """The current operator's own language (its content's fallback), or the site's default
    outside an operator's request (a task that only entered its schema)."""
    return getattr(connection.tenant, "locale", None) or settings.LANGUAGE_CODE


class TranslatedContent(models.Model):
    """Texts per language for the fields a subclass names in its `i18n` TranslationField."""

    class Meta:
        abstract = True

    def texts(self, field: str) -> dict[str, str]:
        """The field's text in each content language, "" where there is none."""
        return {
            language: getattr(self, build_localized_fieldname(field, language, ignore_default=True))
            or ""
            for language in content_languages()
        }

    def set_texts(self, field: str, texts: Texts) -> None:
        """Write the field in every content language at once: a language missing from `texts`
        (or empty there) is removed, except the plain column, which becomes ""."""
        for language in content_languages():
            attribute = build_localized_fieldname(field, language, ignore_default=True)
            text = texts.get(language) or ""
            setattr(self, attribute, text if text or attribute == field else None)


def as_texts(value: "str | Texts") -> dict[str, str]:
    """Texts per language from either a mapping or one text in the operator's language (what
    a system writes, such as a product imported from the operator's panel)."""
    return dict(value) if isinstance(value, Mapping) else {operator_language(): value}
