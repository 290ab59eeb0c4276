"""Typed parameters loaded from YAML, with unknown keys and wrong types rejected.

papermill and YAML both accept a mistyped parameter silently; here every parameter set is a pydantic
model with ``extra="forbid"``, and :func:`load_params` turns validation failures into one
:class:`~nfl_bnn.errors.ConfigError` naming the file, the key, the problem and a did-you-mean hint.
Rules between parameters (``first_week <= last_week``) are ``model_validator(mode="after")`` methods
of their class, so they fail at load too. The field types every class shares (:data:`Season`,
:data:`Week`, :data:`ModelPath`) are declared here once.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, TypeVar
from collections.abc import Mapping

import numpy as np
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from nfl_bnn.errors import ConfigError
from nfl_bnn.redact import mask_secrets, shown_value


def _whole_number(v: Any) -> Any:
    """Refuse 10.5, True and "10" instead of quietly turning them into a week."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"must be a whole number, not {type(v).__name__}")
    return int(v)


SEASON_RANGE = (1999, 2100)  #: seasons a parameter may name (nflverse data starts in 1999)
WEEK_RANGE = (1, 22)  #: weeks of a season, playoffs included

#: An NFL season, named by the year it starts.
Season = Annotated[int, BeforeValidator(_whole_number),
                   Field(ge=SEASON_RANGE[0], le=SEASON_RANGE[1], description="NFL season (year it starts)")]
#: A week of the season; 18 and later are playoff weeks in the 17-game era.
Week = Annotated[int, BeforeValidator(_whole_number),
                 Field(ge=WEEK_RANGE[0], le=WEEK_RANGE[1], description="week of the season, 1-22 (18+ are playoffs)")]
#: A model artifact (.npz): absolute, or relative to the project root (``config.resolve_model_path``).
ModelPath = Annotated[str, Field(min_length=1, description="model artifact (.npz), relative to the project root")]


class StrictModel(BaseModel):
    """Base for every parameter set: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


M = TypeVar("M", bound=StrictModel)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with a clear error for a missing, unreadable or non-mapping file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"parameter file {p} does not exist; check the path (params files live in params/)")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"parameter file {p} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"parameter file {p} must hold a mapping of name: value, not {type(data).__name__}")
    return data


def validate(model: type[M], values: Mapping[str, Any], source: str = "parameters") -> M:
    """Validate ``values`` against ``model``; raise one readable ConfigError listing every problem.

    A wrong value is echoed so the user sees what was read, except what could be a secret: a mapping
    or list (any entry), a value under a secret-looking name, and passwords inside text.
    """
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        known = list(model.model_fields)
        problems = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            if not loc:  # a rule between parameters (model_validator): its message names them
                problems.append(str(err["msg"]).removeprefix("Value error, "))
            elif err["type"] == "extra_forbidden":
                hint = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
                extra = f"; did you mean {hint[0]!r}?" if hint else f"; known names: {', '.join(known)}"
                problems.append(f"unknown parameter {loc!r}{extra}")
            elif err["type"] == "missing":
                problems.append(f"{loc}: {err['msg']}")  # its 'input' is the whole mapping: never echoed
            else:
                problems.append(f"{loc}: {mask_secrets(err['msg'])} (got {shown_value(loc, err.get('input'))})")
        raise ConfigError(f"invalid {source}: " + "; ".join(problems)) from None


def load_params(model: type[M], *paths: str | Path | None, overrides: Mapping[str, Any] | None = None) -> M:
    """Merge YAML files left to right, then ``overrides`` (None values ignored), and validate."""
    merged: dict[str, Any] = {}
    sources = []
    for path in paths:
        if path is None:
            continue
        merged.update(read_yaml(path))
        sources.append(str(path))
    if overrides:
        merged.update({k: v for k, v in overrides.items() if v is not None})
        sources.append("overrides")
    return validate(model, merged, source=" + ".join(sources) or "parameters")
