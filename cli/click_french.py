"""Click's own words in French: the usage line, the help option, section titles, the notes after an option's help
("par défaut : 20", "obligatoire") and the usage errors (a missing argument, an unknown option, a bad value).

Typer 0.29 carries its own copy of Click (``typer._click``) whose texts are English literals, not gettext calls: a
French catalogue (.mo) cannot reach them. So commands render their help with Click's plain formatter (Rich's panels
take their titles from module constants) through a formatter that writes French, and ``usage_error`` says a usage
error again in French from the exception's own fields. The hooks are in ``typer._click``, a private module: a Typer
upgrade may move them (tests/test_cli_french.py reads every help page and a few errors).
"""

from __future__ import annotations

import re
from typing import Any

import typer
from typer._click.exceptions import BadParameter, MissingParameter, NoSuchOption, UsageError
from typer._click.formatting import HelpFormatter
from typer.core import TyperCommand, TyperGroup

from pipeline.messages import plural_word, say

# Typer's names for the values an option takes, as the help shows them ("--limit <int range>")
TYPES = {"str": "texte", "int": "entier", "int range": "entier", "float": "nombre", "path": "chemin"}
_TYPE = re.compile(r"<([\w ]+)>")
# The note Typer appends to an option's help: "[default: 20; x>=1; required]"
_NOTE = re.compile(r"\[([^\[\]]*)\]$")
# Usage errors that carry nothing but their English sentence, by that sentence
_SENTENCES = [
    (re.compile(r"Missing command\.$"), "cli.missing_command"),
    (re.compile(r"Option '(?P<name>.*)' requires .*$"), "cli.needs_value"),
    (re.compile(r"Option '(?P<name>.*)' does not take a value\.$"), "cli.takes_no_value"),
]
_UNKNOWN_COMMAND = re.compile(r"No such command '(?P<name>.*?)'\.(?: Did you mean (?P<close>.*)\?)?$")
_EXTRA = re.compile(r"Got unexpected extra argument(?:\(s\)|s)? \((?P<args>.*)\)$")
# Pydantic's reasons, which Typer uses to convert a value, by error type
_REASONS = {
    "int_parsing": "cli.not_integer",
    "float_parsing": "cli.not_number",
    "greater_than_equal": "cli.at_least",
    "less_than_equal": "cli.at_most",
}


def _note(note: str) -> str:
    parts = []
    for part in note.split("; "):
        key, _, value = part.partition(": ")
        if key == "default":
            parts.append(say("cli.default", value=value))
        elif key == "env var":
            parts.append(say("cli.env_var", name=value))
        elif part == "required":
            parts.append(say("cli.required"))
        else:  # a range, "x>=1", reads the same
            parts.append(part)
    return " ; ".join(parts)  # French spaces its semicolons


class FrenchHelpFormatter(HelpFormatter):
    """Click's help formatter, in French: the usage prefix, the section titles, value types and notes."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix if prefix is not None else say("cli.usage"))

    def write_heading(self, heading: str) -> None:
        title = say("cli.commands") if heading == "Commands" else heading  # "Options" and "Arguments" are French
        self.write(f"{'':>{self.current_indent}}{say('cli.heading', title=title)}\n")  # Click writes "Options:"

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [
            (
                _TYPE.sub(lambda m: f"<{TYPES.get(m.group(1), m.group(1))}>", term),
                _NOTE.sub(lambda m: f"[{_note(m[1])}]", text),
            )
            for term, text in rows
        ]
        super().write_dl(rows, col_max, col_spacing)


class FrenchContext(typer.Context):
    formatter_class = FrenchHelpFormatter


class _French:
    """What a French command and group share: their context's formatter and the help option's own help."""

    context_class = FrenchContext

    def get_help_option(self, ctx: typer.Context) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = say("cli.help_option")
        return option


class FrenchCommand(_French, TyperCommand):
    pass


class FrenchGroup(_French, TyperGroup):
    pass


class FrenchTyper(typer.Typer):
    """A Typer app whose groups and commands speak French and render help as plain text (see the module's note)."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("cls", FrenchGroup)
        super().__init__(rich_markup_mode=None, subcommand_metavar=say("cli.subcommand"), **options)

    def command(self, name: str | None = None, **options: Any) -> Any:
        return super().command(name, cls=options.pop("cls", FrenchCommand), **options)


def _bad_value(error: BadParameter) -> str:
    """Why a value was refused: Pydantic's error type when Typer converted it, else the message as it came."""
    cause = error.__cause__
    reason = error.message
    if cause is not None and hasattr(cause, "errors"):
        first = cause.errors()[0]
        limits = first.get("ctx") or {}
        if first["type"] in _REASONS:
            reason = say(_REASONS[first["type"]], limit=next(iter(limits.values()), ""))
    name = error.param.get_error_hint() if error.param is not None else ""
    return say("cli.bad_value", name=name.strip("'"), reason=reason)


def usage_error(error: UsageError) -> str:
    """A usage error said in French (its ``ctx`` still gives the usage line and the help option)."""
    if isinstance(error, MissingParameter) and error.param is not None:
        kind = "cli.missing_argument" if error.param.param_type_name == "argument" else "cli.missing_option"
        return say(kind, name=error.param.get_error_hint().strip("'"))
    if isinstance(error, NoSuchOption):
        possible = say("cli.possible_options", options=", ".join(sorted(error.possibilities))) if error.possibilities else ""
        return say("cli.no_such_option", name=error.option_name) + possible
    if isinstance(error, BadParameter):
        return _bad_value(error)
    message = error.format_message()
    extra = _EXTRA.match(message)
    if extra:
        return say("cli.extra_arguments", what=plural_word(len(extra["args"].split()), "extra_argument"), args=extra["args"])
    unknown = _UNKNOWN_COMMAND.match(message)
    if unknown:
        close = say("cli.did_you_mean", commands=unknown["close"]) if unknown["close"] else ""
        return say("cli.no_such_command", name=unknown["name"]) + close
    for sentence, message_id in _SENTENCES:
        found = sentence.match(message)
        if found:
            return say(message_id, **found.groupdict())
    return message  # not one Click is known to raise here: as it came
