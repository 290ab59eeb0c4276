"""Benchmarks and measurements (`make bench`, `python -m bench.<script>`); shared helpers live here."""
from __future__ import annotations


def parse_sets(items: list[str], flag: str = "--set") -> list[tuple[str, object]]:
    """``["n_experts=3", "gate=ordinal"]`` -> ``[("n_experts", 3), ("gate", "ordinal")]`` in the order given
    (values read as YAML scalars, so numbers and lists come out typed; ``dict()`` of it for overrides, the
    list itself where each item is its own choice); a malformed item ends the script with a clear message."""
    import yaml

    out: list[tuple[str, object]] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"{flag} {item!r}: use KEY=VALUE")
        out.append((key.strip(), yaml.safe_load(value)))
    return out
