"""Report parameters: YAML files in ``params/`` checked against a notebook's parameters cell.

A parameters file is data only (``yaml.safe_load``): a mapping from parameter
names to literal values. Every name must be a parameter of the notebook (papermill
would only warn about an unknown one and the report would silently use the
default), and every value must match the type annotated in the notebook's
parameters cell (``top_n: int = 10``).

Examples
--------
>>> from journey_utils.build import params
>>> params.accepts("list[str]", ["Pricing", "Homepage"]), params.accepts("int", True)
(True, False)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from journey_utils.errors import JourneyError

__all__ = ["ParamsError", "load", "notebook_parameters", "accepts", "check"]


class ParamsError(JourneyError, ValueError):
    """A parameters file that cannot be used as it is."""


def load(path) -> dict:
    """Read a parameters file: a YAML mapping of names to literal values.

    Parameters
    ----------
    path : str or path-like
        The YAML file. An empty file means no parameters.

    Returns
    -------
    dict

    Raises
    ------
    ParamsError
        The file is missing, is not valid YAML, holds tags other than plain
        literals, or is not a mapping with text keys.
    """
    path = Path(os.fspath(path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ParamsError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML literals: {error}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ParamsError(f"{path}: expected a mapping of parameter names to values; found {type(values).__name__}")
    bad = [k for k in values if not isinstance(k, str)]
    if bad:
        raise ParamsError(f"{path}: parameter names must be text; found {bad[0]!r}")
    return values


def notebook_parameters(notebook) -> dict:
    """The parameters a notebook declares: name -> {'type', 'default', 'help'}.

    Read with ``papermill.inspect_notebook`` from the cell tagged ``parameters``.
    """
    import papermill

    found = papermill.inspect_notebook(os.fspath(notebook))
    return {
        name: {"type": p["inferred_type_name"], "default": p["default"], "help": p["help"]}
        for name, p in found.items()
    }


_SCALARS = {"str": str, "int": int, "float": (int, float), "bool": bool}


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "["
        depth -= char == "]"
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p]


def accepts(annotation: str, value) -> bool:
    """Whether ``value`` is a literal of the annotated type.

    Understands ``str``, ``int``, ``float``, ``bool``, ``list``, ``list[T]`` and
    ``Union[A, B]``. ``bool`` is not accepted as an ``int``.

    Raises
    ------
    ParamsError
        For an annotation it does not understand.
    """
    kind = re.sub(r"\s+", "", annotation).removeprefix("typing.")
    union = re.fullmatch(r"(?:Union|Optional)\[(.*)\]", kind)
    if union:
        options = _split_top_level(union.group(1))
        if kind.startswith("Optional"):
            options.append("None")
        return any(accepts(option, value) for option in options)
    sequence = re.fullmatch(r"(?:list|List)\[(.*)\]", kind)
    if sequence:
        return isinstance(value, list) and all(accepts(sequence.group(1), v) for v in value)
    if kind in ("list", "List"):
        return isinstance(value, list)
    if kind in ("None", "NoneType"):
        return value is None
    if kind in _SCALARS:
        return isinstance(value, _SCALARS[kind]) and (kind == "bool" or not isinstance(value, bool))
    raise ParamsError(f"unsupported parameter annotation {annotation!r}; use str, int, float, bool, list[...] "
                      "or Union[...]")


def _describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def check(values: Mapping, declared: Mapping, *, source: str, notebook: str) -> None:
    """Check parameter values against a notebook's declared parameters.

    Parameters
    ----------
    values : mapping
        Name -> value, e.g. from :func:`load`.
    declared : mapping
        From :func:`notebook_parameters`.
    source : str
        Where the values came from, for messages (a file name).
    notebook : str
        The notebook, for messages.

    Raises
    ------
    ParamsError
        An unknown name (listing the accepted ones) or a value of the wrong type
        (saying the type expected, the notebook's default and the value found).
    """
    for name, value in values.items():
        if name not in declared:
            raise ParamsError(
                f"{source}: unknown parameter {name!r} for {notebook}; parameters accepted: {', '.join(declared)}"
            )
        spec = declared[name]
        if not accepts(spec["type"], value):
            raise ParamsError(
                f"{source}: parameter {name!r} must be {spec['type']} (default {spec['default']}); "
                f"found {_describe(value)}"
            )
