"""A page's forms read as a browser reads them, and submitted as a browser submits them.

A test that writes its POST by hand posts what its author thinks the page sends; these
helpers post what the page really sends: every successful control of the form (its fields
with their current values) plus the one submit button pressed, name and value, in document
order. A button named like a field then reaches the view as the browser would send it
(`capacity=25&capacity=1`), and the test sees what a member of staff would see.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Inputs that are not sent unless they are the button pressed, or not at all.
BUTTON_TYPES = {"submit", "image", "button", "reset"}
NOT_SENT = {"file"}


@dataclass
class Control:
    tag: str
    name: str
    type: str
    value: str
    label: str = ""  # a button's text


@dataclass
class Form:
    attrs: dict[str, str]
    fields: list[Control] = field(default_factory=list)
    buttons: list[Control] = field(default_factory=list)

    @property
    def field_names(self) -> set[str]:
        return {control.name for control in self.fields}

    def button(self, label: str) -> Control:
        """The submit button whose text (or value, for an input) is `label`."""
        matches = [b for b in self.buttons if label in (b.label, b.value) and b.type == "submit"]
        assert len(matches) == 1, f"{len(matches)} buttons {label!r} in {self.buttons}"
        return matches[0]

    def submission(self, button: str, **values: str) -> dict[str, list[str]]:
        """What the browser posts when `values` are typed into the fields of those names and
        the button `button` is pressed: every name with its values in document order, the
        button's last (as a browser puts it where it stands; here buttons follow fields)."""
        unknown = set(values) - self.field_names
        assert not unknown, f"the form has no field {unknown}: {self.field_names}"
        data: dict[str, list[str]] = {}
        for control in self.fields:
            data.setdefault(control.name, []).append(values.get(control.name, control.value))
        pressed = self.button(button)
        if pressed.name:
            data.setdefault(pressed.name, []).append(pressed.value)
        return data


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._text: Control | None = None  # a button or textarea whose text is being read
        self._select: Control | None = None
        # The open select's options: [value or None (its text then), text, selected].
        self._options: list[list] = []

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = {name: value or "" for name, value in attr_list}
        if tag == "form":
            self._form = Form(attrs)
            self.forms.append(self._form)
            return
        if self._form is None or "disabled" in attrs:
            return
        name = attrs.get("name", "")
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            checkable = kind in {"checkbox", "radio"}
            control = Control(tag, name, kind, attrs.get("value", "on" if checkable else ""))
            if kind in BUTTON_TYPES:
                control.label = control.value
                self._form.buttons.append(control)
            elif name and kind not in NOT_SENT and (not checkable or "checked" in attrs):
                self._form.fields.append(control)
        elif tag == "button":
            kind = attrs.get("type", "submit").lower()
            self._text = Control(tag, name, kind, attrs.get("value", ""))
            self._form.buttons.append(self._text)
        elif tag == "textarea" and name:
            self._text = Control(tag, name, "textarea", "")
            self._form.fields.append(self._text)
        elif tag == "select" and name:
            self._select = Control(tag, name, "select", "")
            self._options = []
        elif tag == "option" and self._select is not None:
            self._options.append([attrs.get("value"), "", "selected" in attrs])

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.label += data
        elif self._select is not None and self._options:
            self._options[-1][1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag in {"button", "textarea"} and self._text is not None:
            if tag == "textarea":
                self._text.value = self._text.label
            self._text.label = " ".join(self._text.label.split())
            self._text = None
        elif tag == "select" and self._select is not None and self._form is not None:
            values = [(v if v is not None else " ".join(t.split()), s) for v, t, s in self._options]
            chosen = [value for value, selected in values if selected] or [
                value for value, _ in values[:1]
            ]
            if chosen:  # a select with no option sends nothing
                self._select.value = chosen[-1]
                self._form.fields.append(self._select)
            self._select = None


def forms_of(html: str) -> list[Form]:
    """Every form of a page, with its successful controls and its buttons."""
    reader = _FormReader()
    reader.feed(html)
    reader.close()
    return reader.forms


def form_with(html: str, *, button: str) -> Form:
    """The one form of a page that has the button `button`."""
    matches = [f for f in forms_of(html) if any(button in (b.label, b.value) for b in f.buttons)]
    assert len(matches) == 1, f"{len(matches)} forms with a button {button!r}"
    return matches[0]


def button_field_collisions(html: str) -> list[str]:
    """Buttons named like a field of their own form: pressing one posts two values under one
    name, and the view reads one of them (Django's QueryDict: the last)."""
    return [
        f"{button.name} ({button.label or button.value})"
        for form in forms_of(html)
        for button in form.buttons
        if button.name and button.name in form.field_names
    ]
