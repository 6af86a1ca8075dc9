import logging


class MissingTemplateVariable(logging.Filter):
    """Installed on the `django.template` logger by the test suite: a template that reads a
    variable it was not given fails the test instead of rendering an empty string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Exception while resolving variable"):
            name, template = record.args[0], record.args[1]
            raise AssertionError(f"template {template!r} reads missing variable {name!r}")
        return True
