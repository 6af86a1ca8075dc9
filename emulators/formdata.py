"""Stripe's form encoding: `line_items[0][price_data][currency]=usd` into nested dicts and lists."""

import re
from urllib.parse import parse_qsl

_TOKEN = re.compile(r"\[([^\]]*)\]")
# Children of these keys are free-form names, never list indices.
_MAPPINGS = frozenset({"metadata"})


def pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True)


def _split(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    return [head, *_TOKEN.findall("[" + rest)] if rest else [head]


def decode(items: list[tuple[str, str]]) -> dict:
    root: dict = {}
    for key, value in items:
        *parents, last = _split(key)
        node = root
        for token in parents:
            name = token or str(len(node))
            child = node.get(name)
            if not isinstance(child, dict):  # `a=1&a[b]=2`: the nested form wins
                child = node[name] = {}
            node = child
        node[last or str(len(node))] = value
    return _listify(root, parent="")


def _listify(node: object, parent: str) -> object:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value, key) for key, value in node.items()}
    if parent not in _MAPPINGS and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted
