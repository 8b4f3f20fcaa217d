"""The command-line reference, generated from the argparse parser itself so that it cannot drift.

``.. pixclust-cli::`` builds ``pixclust._cli.parser.build_parser()`` and emits, for the program and for
each subcommand, a section with its usage, its description and every argument with its help, choices and
default.
"""

from __future__ import annotations

import argparse
import re
from typing import Any


def _escape(text: str) -> str:
    return re.sub(r"([\\*|_`<>\[\]])", r"\\\1", text)


def _invocation(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    # argparse's own rendering, as in --help: "-o OUTPUT, --output OUTPUT", "--space {rgb,lab}"
    return parser._get_formatter()._format_action_invocation(action)


def _details(action: argparse.Action) -> str:
    parts = [_escape(action.help or "")]
    # identity, not ==: a default of 0 is shown, and False (a flag's) is not
    shown = all(action.default is not v for v in (None, False, argparse.SUPPRESS)) and action.nargs != 0
    if shown and "default" not in (action.help or ""):
        default = " ".join(map(str, action.default)) if isinstance(action.default, list) else action.default
        parts.append(f"Default: ``{default}``.")
    if action.required and action.option_strings:
        parts.append("Required.")
    return " ".join(p for p in parts if p) or "\\ "


def _arguments(parser: argparse.ArgumentParser) -> list[str]:
    out: list[str] = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        out += [f"``{_invocation(parser, action)}``", f"   {_details(action)}", ""]
    return out


def _section(title: str, underline: str, parser: argparse.ArgumentParser, summary: str = "") -> list[str]:
    out = [title, underline * len(title), ""]
    text = parser.description or summary
    if text:
        out += [_escape(text), ""]
    out += [".. code-block:: text", ""]
    out += ["   " + line for line in parser.format_usage().rstrip().splitlines()] + [""]
    return out + _arguments(parser)


def cli_rst() -> list[str]:
    """The reference as reStructuredText lines: the program, then one section per command."""
    from pixclust._cli.parser import build_parser

    parser = build_parser()
    out = _section("pixclust", "-", parser)
    sub: Any = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in sub._choices_actions}
    for name, command in sub.choices.items():
        out += _section(f"pixclust {name}", "~", command, helps.get(name, ""))
    return out


def setup(app):  # type: ignore[no-untyped-def]
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class PixclustCli(SphinxDirective):
        def run(self):  # type: ignore[no-untyped-def]
            node = nodes.section()
            node.document = self.state.document
            nested_parse_with_titles(self.state, StringList(cli_rst(), source="pixclust._cli.parser"), node)
            return node.children

    app.add_directive("pixclust-cli", PixclustCli)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
