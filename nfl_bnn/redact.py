"""Hide secrets in text that is about to be shown: connection strings and parameter values.

Why a module of its own: the warehouse masks its URLs, the parameter validator masks the values it
echoes, and the log handlers mask every record as a last line of defence; all three must agree on
what a secret looks like, and the validator and the logger must not import the database layer.

A password is found by *position*, not by parsing: in a URL everything between the first ``:`` after
``scheme://`` and the LAST ``@`` (so an unencoded ``/``, ``#``, ``?`` or ``@`` in the password is still
covered), and in a libpq key-value string or a query string the value after ``password=``. Masking too
much is harmless; masking too little is a leak.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "***"

_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:@\s/]*):(?P<secret>\S*)@(?P<rest>[^@\s]*)")
# libpq quoting: 'value with spaces and \' escapes', or a bare value up to whitespace or &
_KV_PASSWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|[^&\s]*)", re.I)
#: parameter names whose values are never echoed, whatever they hold
_SECRET_NAME = re.compile(r"pass|secret|token|api_?key|credential|dsn|database_url|db_url|conn", re.I)


def mask_secrets(text: str) -> str:
    """``text`` with every URL password and every ``password=`` value replaced by ``***``.

    >>> mask_secrets("postgresql://u:pa/ss#w?rd@h:5432/db and host=h password='a b'")
    'postgresql://u:***@h:5432/db and host=h password=***'
    """
    text = _URL.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@{m['rest']}", text)
    return _KV_PASSWORD.sub(lambda m: m["key"] + MASK, text)


def shown_value(name: str, value: Any) -> str:
    """How a parameter's value may appear in an error message: ``repr`` for a plain value, ``***`` for
    a secret-looking name, masked text for a string, and only the type for a mapping or a list (whose
    entries could be anything, a password included)."""
    if _SECRET_NAME.search(name):
        return MASK
    if isinstance(value, (dict, list, tuple, set)):
        return f"a {type(value).__name__}"
    if isinstance(value, str):
        return repr(mask_secrets(value))
    return repr(value)
