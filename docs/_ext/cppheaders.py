"""The C++ API reference from the public headers' own comments, without Doxygen.

``.. cpp-header:: pixclust/kmeans.hpp`` reads ``cpp/include/pixclust/kmeans.hpp`` and emits the file's
opening comment, then one ``cpp:function``, ``cpp:struct``, ``cpp:class``, ``cpp:enum-class``, ``cpp:var`` or
``cpp:type`` directive per declaration in the namespace, with the ``//`` comment block above it as its
description (declarations on adjacent lines share one comment, as ``linkage``/``linkage_overwrite`` do).
Explicit instantiations (``extern template``) and macros are left out: they repeat the templates.

:func:`parse_header` is also what ``tests/test_docs.py`` uses to check that every public declaration
has a comment, so the headers stay the one source of truth.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

INCLUDE = Path(__file__).resolve().parents[2] / "cpp" / "include"

_ACCESS = re.compile(r"^(public|private|protected):$")
_SKIP = re.compile(r"^(#|extern template|namespace |}\s*//\s*namespace|using [\w:]+::\w+;|[A-Z_]+\(.*\)$)")


@dataclass
class Decl:
    """One declaration: its directive, signature, comment, and its members (struct fields, enumerators)."""

    kind: str
    signature: str
    comment: list[str]
    line: int
    shares_comment: bool = False
    members: list["Decl"] = field(default_factory=list)

    @property
    def name(self) -> str:
        head = self.signature.split("(")[0] if "(" in self.signature else self.signature.split(":")[0]
        head = re.sub(r"\s*=.*$", "", head)
        return head.split()[-1].lstrip("*&")


@dataclass
class Header:
    path: Path
    intro: list[str]
    decls: list[Decl]


def _statement(lines: list[str], i: int) -> tuple[str, int]:
    """The statement starting at line i (through ';' at brace depth 0, or a closing '};'), and the next line."""
    parts, depth = [], 0
    while i < len(lines):
        text = lines[i]
        parts.append(text)
        code = text.split("//")[0].replace("= {}", "= 0")  # a default argument, not a body
        depth += code.count("{") - code.count("}")
        i += 1
        if depth == 0 and (code.rstrip().endswith(";") or code.rstrip().endswith("}")):
            break
    return "\n".join(parts), i


def _strip_comments(text: str) -> str:
    return " ".join(line.split("//")[0].strip() for line in text.splitlines()).strip()


def _signature(code: str) -> str:
    """A declaration without its body, member-initialiser list or trailing ';'."""
    # `= {}` is a default argument, not a body.
    code = re.sub(r"\s+", " ", code).strip().rstrip(";").strip().replace("= {}", "= \0")
    if "{" in code:
        code = code[: code.index("{")].strip()
    code = code.replace("= \0", "= {}")
    code = re.sub(r"\)\s*:\s*[\w:]+\(.*$", ")", code)  # a constructor's member initialisers
    return re.sub(r"template\s*<", "template<", code)


def _enumerators(body: str) -> list[Decl]:
    out: list[Decl] = []
    for raw in body.splitlines():
        code, _, note = raw.partition("//")
        names = [n.strip() for n in code.split(",") if n.strip()]
        if not names and note.strip() and out:
            out[-1].comment.append(note.strip())
            continue
        for name in names:
            out.append(Decl("enumerator", name, [note.strip()] if note.strip() else [], 0))
    return out


def _members(body_lines: list[str], is_class: bool) -> list[Decl]:
    """The public fields and member functions of a struct or class body, each with its comment."""
    out: list[Decl] = []
    pending: list[str] = []
    public = not is_class
    i = 0
    while i < len(body_lines):
        line = body_lines[i].strip()
        if _ACCESS.match(line):
            public = line.startswith("public")
            i += 1
            continue
        if line.startswith("//"):
            pending.append(line[2:].strip())
            i += 1
            continue
        if not line or line.startswith("using "):
            pending, i = [], i + 1
            continue
        text, i = _statement(body_lines, i)
        note = [text.split("//", 1)[1].strip()] if "//" in text.splitlines()[0] else []
        if public:
            out.extend(_member_decls(_strip_comments(text), pending + note))
        pending = []
    return out


def _member_decls(code: str, comment: list[str]) -> list[Decl]:
    sig = _signature(code)
    if "(" in sig:
        return [Decl("function", sig, comment, 0)]
    # `std::vector<std::int64_t> s1, s2` declares two members of one type.
    m = re.match(r"^(.*?[\w>&*\s])(\w+(?:\s*=\s*[^,]+)?(?:\s*,\s*\w+(?:\s*=\s*[^,]+)?)*)$", sig)
    if not m or "," not in m.group(2):
        return [Decl("member", sig, comment, 0)]
    return [Decl("member", f"{m.group(1).strip()} {name.strip()}", comment, 0) for name in m.group(2).split(",")]


def _declaration(text: str, comment: list[str], line: int) -> Decl:
    code = _strip_comments(text)
    first = code.split("{")[0].strip()
    template = re.match(r"^template\s*<[^>]*>\s*", first)
    prefix = re.sub(r"\s+", "", template.group(0)).replace("class", "class ") + " " if template else ""
    m = re.match(r"^(struct|class)\s+(\w+)([^(]*)$", first[template.end():] if template else first)
    if m:
        body = text[text.index("{") + 1: text.rindex("}")].splitlines()
        kind = m.group(1)
        return Decl(kind, prefix + (m.group(2) + m.group(3)).strip(), comment, line,
                    members=_members(body, kind == "class"))
    m = re.match(r"^enum class\s+(\w+)", first.strip())
    if m:
        body = text[text.index("{") + 1: text.rindex("}")]
        return Decl("enum-class", m.group(1), comment, line, members=_enumerators(body))
    m = re.match(r"^using\s+(\w+)\s*=\s*(.*);$", code)
    if m:
        return Decl("type", f"{m.group(1)} = {m.group(2)}", comment, line)
    if re.match(r"^(inline\s+)?(constexpr|const)\s[^(]*=", code):
        return Decl("var", _signature(code), comment, line)
    if "(" in code:
        return Decl("function", _signature(code), comment, line)
    # Anything else would pass the comment check unseen: the parser must learn it first.
    raise ValueError(f"cppheaders: line {line}: a declaration this parser does not know: {code!r}")


def _intro(lines: list[str]) -> tuple[list[str], int]:
    intro, i = [], 0
    while i < len(lines) and lines[i].startswith("//"):
        intro.append(lines[i][2:].removeprefix(" "))
        i += 1
    return intro, i


def parse_header(path: Path) -> Header:
    """The opening comment and the documented (or not) declarations of one public header."""
    lines = path.read_text(encoding="utf-8").splitlines()
    intro, i = _intro(lines)
    decls: list[Decl] = []
    pending: list[str] = []
    previous_ended = -2  # line index after the last declaration, to group adjacent ones
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith("//"):
            pending.append(lines[i].strip()[2:].removeprefix(" "))
            i += 1
            continue
        if not stripped or _SKIP.match(stripped):
            i = _skip_block(lines, i) if stripped.startswith(("#define", "extern template")) else i + 1
            pending = []
            continue
        start = i
        text, i = _statement(lines, i)
        decl = _declaration(text, pending, start + 1)
        decl.shares_comment = not pending and previous_ended == start and bool(decls)
        decls.append(decl)
        previous_ended = i
        pending = []
    return Header(path, intro, decls)


def _skip_block(lines: list[str], i: int) -> int:
    """The line after a multi-line macro definition or an explicit instantiation."""
    if lines[i].strip().startswith("#define"):
        while i < len(lines) and lines[i].rstrip().endswith("\\"):
            i += 1
        return i + 1
    return _statement(lines, i)[1]


def undocumented(header: Header) -> list[str]:
    """'file:line name' for each declaration with neither its own comment nor an adjacent documented one."""
    missing = []
    for d in header.decls:
        if not d.comment and not d.shares_comment:
            missing.append(f"{header.path.name}:{d.line} {d.name}")
    return missing


# --- rendering ---------------------------------------------------------------------------------------

_INLINE_CODE = re.compile(r"`([^`\n]+)`")


def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    pieces = _INLINE_CODE.split(text)
    for j in range(0, len(pieces), 2):
        pieces[j] = re.sub(r"([*|_`<>\[\]])", r"\\\1", pieces[j])
    for j in range(1, len(pieces), 2):
        pieces[j] = f"``{pieces[j]}``"
    out = "".join(pieces)
    if re.match(r"^([-+*]\s|\d+[.)]\s|#)", out):
        out = "\\" + out
    return out


def comment_to_rst(comment: list[str]) -> list[str]:
    """Prose as escaped text; indented lines (a formula, a list, a table of arguments) as a literal
    block, so that their layout survives."""
    paragraphs: list[list[str]] = [[]]
    for line in comment:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    out: list[str] = []
    for para in (p for p in paragraphs if p):
        for indented, run in itertools.groupby(para, key=lambda line: line.startswith(" ")):
            lines = list(run)
            if indented:
                out += [".. code-block:: text", ""] + ["   " + line for line in lines] + [""]
            else:
                out += [_escape(" ".join(line.strip() for line in lines)), ""]
    return out


def _directive(decl: Decl, indent: str) -> list[str]:
    out = [f"{indent}.. cpp:{decl.kind}:: {decl.signature}", ""]
    out += [f"{indent}   {line}" if line else "" for line in comment_to_rst(decl.comment)]
    for member in decl.members:
        out += _directive(member, indent + "   ")
    return out


def header_to_rst(header: Header) -> list[str]:
    out = comment_to_rst(header.intro)
    out += [".. code-block:: cpp", "", f"   #include <pixclust/{header.path.name}>", ""]
    for decl in header.decls:
        out += _directive(decl, "")
    return out


def setup(app):  # type: ignore[no-untyped-def]
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective

    class CppHeader(SphinxDirective):
        required_arguments = 1

        def run(self):  # type: ignore[no-untyped-def]
            path = INCLUDE / self.arguments[0]
            self.env.note_dependency(str(path))
            rst = header_to_rst(parse_header(path))
            node = nodes.container()
            self.state.nested_parse(StringList(rst, source=str(path)), self.content_offset, node)
            return node.children

    app.add_directive("cpp-header", CppHeader)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
