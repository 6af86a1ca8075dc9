"""Dependencies point one way, templates included (DESIGN.md). `lint-imports` holds Python
imports to the order of the apps; this holds templates to the same order: what a template
extends, includes, loads and links to, and the templates an app's code renders, belong to its
own app or to one below it.

Templates belong to the app of their folder (`emails/` to booking, which sends them);
`base.html` is the layout every page extends and may reference no app; `404.html` and
`500.html` belong to the project, which sits above every app.
"""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines

ROOT = Path(settings.BASE_DIR)
LAYERS = ["audit", "tenants", "outbox", "booking", "payments", "backoffice"]  # bottom to top
RANK = {app: rank for rank, app in enumerate(LAYERS, start=1)} | {"layout": 0, "project": 99}
RANK["panel_sync"] = RANK["payments"]  # a layer beside payments
APPS = [*LAYERS, "panel_sync"]
FOLDER_OWNERS = {"emails": "booking"}
TEMPLATE_NAME = re.compile(r"^[\w/]+\.(?:html|txt)(?:#[\w-]+)?$")
TAG = re.compile(r"{%\s*(extends|include|load|url)\s+(.*?)%}", re.S)


def owner_of_template(name: str) -> str:
    name = name.split("#")[0]
    folder, _, rest = name.partition("/")
    if not rest:
        return "layout" if name == "base.html" else "project"
    return FOLDER_OWNERS.get(folder, folder)


def owner_of_library(library: str) -> str | None:
    """The app whose templatetags define `library` (by the `<app>_tags` convention for one
    not registered); None for Django's and other packages' libraries."""
    registered = engines["django"].engine.template_libraries.get(library)
    app = registered.__module__.split(".")[0] if registered else library.removesuffix("_tags")
    return app if app in RANK else None


def template_references(text: str) -> list[tuple[str, str]]:
    """(what, owner) for each reference of a template to an app's templates, tags or URLs."""
    found = []
    for tag, arguments in TAG.findall(text):
        if tag in ("extends", "include"):
            quoted = re.match(r"""\s*["']([^"']+)["']""", arguments)
            if quoted:
                found.append((f"{tag} {quoted[1]}", owner_of_template(quoted[1])))
        elif tag == "load":
            libraries = (
                arguments.split(" from ")[-1].split()
                if " from " in arguments
                else arguments.split()
            )
            for library in libraries:
                if (owner := owner_of_library(library)) is not None:
                    found.append((f"load {library}", owner))
        else:
            name = re.match(r"""\s*["']([^"']+)["']""", arguments)
            if name and ":" in name[1]:
                found.append((f"url {name[1]}", name[1].split(":")[0]))
    return found


def code_references(path: Path) -> list[tuple[str, str]]:
    """Template names an app's Python code renders (string literals such as "x/page.html")."""
    tree = ast.parse(path.read_text())
    return [
        (f"renders {node.value}", owner_of_template(node.value))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and TEMPLATE_NAME.match(node.value)
    ]


def violations(owner: str, references: list[tuple[str, str]]) -> list[str]:
    return [what for what, target in references if RANK[target] > RANK[owner]]


TEMPLATES = sorted((ROOT / "templates").rglob("*.*"))
APP_CODE = sorted(
    path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts
)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_a_template_references_only_its_own_app_and_the_apps_below(path):
    name = str(path.relative_to(ROOT / "templates"))
    owner = owner_of_template(name)
    assert violations(owner, template_references(path.read_text())) == []


@pytest.mark.parametrize("path", APP_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_an_apps_code_renders_only_its_own_templates_and_those_below(path):
    owner = path.relative_to(ROOT).parts[0]
    assert violations(owner, code_references(path)) == []


def test_the_checks_see_what_they_are_meant_to_see():
    """The rules above, on the very references this project once had."""
    assert violations(
        "booking", template_references("{% load i18n booking_tags payments_tags %}")
    ) == ["load payments_tags"]
    assert violations(
        "tenants", template_references("<a href=\"{% url 'backoffice:dashboard' %}\">")
    ) == ["url backoffice:dashboard"]
    assert violations(
        "tenants",
        [("renders backoffice/signed_out.html", owner_of_template("backoffice/signed_out.html"))],
    ) == ["renders backoffice/signed_out.html"]
    assert violations("layout", template_references("{% url 'booking:catalogue' %}")) == [
        "url booking:catalogue"
    ]
    assert (
        violations("payments", template_references('{% include "booking/_summary.html" %}')) == []
    )
    assert len(TEMPLATES) > 30 and len(APP_CODE) > 40
