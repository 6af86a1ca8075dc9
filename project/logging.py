import logging


class MissingTemplateVariable(logging.Filter):
    """With STRICT_TEMPLATES (tests), a template that reads a variable it was not given fails
    instead of rendering an empty string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Exception while resolving variable"):
            name, template = record.args[0], record.args[1]
            raise AssertionError(f"template {template!r} reads missing variable {name!r}")
        return True
