"""Prompt templates: plain text files in `prompts/`, rendered strictly.

A template file holds named sections, each after a header line `### <name>` (`system` and `user` make
the chat messages; other sections, such as `passage`, are pieces the code fills and splices in). Placeholders are `{name}`; literal braces are written `{{` and `}}`. Rendering fails with a
`PromptError` when a placeholder has no value or a value has no placeholder, so a typo in a template or
in the code never sends a half-filled prompt. Values are inserted verbatim (braces inside article text
are not interpreted). It does not know what the prompts say; `assistant.answering.generative` fills them.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError

_HEADER = re.compile(r"^### ([a-z_]+)[ \t]*$", re.MULTILINE)


class PromptError(ConfigError):
    """A template is missing, malformed, or rendered with the wrong values."""


def placeholders(template: str, where: str = "template") -> set[str]:
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise PromptError(f"{where}: malformed placeholder ({exc}); write literal braces as {{{{ }}}}") from exc
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise PromptError(f"{where}: placeholders must be plain names, got {{{bad[0]}}}")
    return names


def render(template: str, values: dict[str, str], where: str = "template") -> str:
    """Fill `template`; every placeholder needs a value and every value a placeholder."""
    names = placeholders(template, where)
    missing = sorted(names - values.keys())
    if missing:
        raise PromptError(f"{where}: no value for placeholder {{{missing[0]}}}")
    unused = sorted(values.keys() - names)
    if unused:
        raise PromptError(f"{where}: value {unused[0]!r} has no placeholder in the template")
    return template.format_map({k: str(v) for k, v in values.items()})


@dataclass(frozen=True)
class Prompt:
    name: str
    sections: dict[str, str]

    def section(self, section: str, **values: str) -> str:
        if section not in self.sections:
            raise PromptError(f"prompt {self.name}: no '### {section}' section")
        return render(self.sections[section], values, f"prompt {self.name} ({section})")

    def messages(self, **values: str) -> tuple[str, str]:
        """(system, user) texts; each value must be used by the system or the user part."""
        system = self.sections.get("system", "")
        sys_names = placeholders(system, f"prompt {self.name} (system)")
        user_names = placeholders(self.sections["user"], f"prompt {self.name} (user)")
        unused = sorted(values.keys() - sys_names - user_names)
        if unused:
            raise PromptError(f"prompt {self.name}: value {unused[0]!r} has no placeholder in the template")
        return (render(system, {k: v for k, v in values.items() if k in sys_names},
                       f"prompt {self.name} (system)"),
                self.section("user", **{k: v for k, v in values.items() if k in user_names}))


def load_prompt(directory: Path, name: str) -> Prompt:
    """Read `<directory>/<name>.txt` and check it parses (values are checked when rendering).

    Lines before the first header must be comments starting with '#'.
    """
    path = Path(directory) / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"cannot read prompt template {path} ({exc.strerror or exc}); "
                          "set ASSISTANT_PROMPTS_DIR to the folder holding answer.txt and condense.txt") from exc
    parts = _HEADER.split(text)
    if any(line.strip() and not line.startswith("#") for line in parts[0].splitlines()):
        raise PromptError(f"{path}: text before the first '### <section>' header")
    sections = dict(zip(parts[1::2], (p.strip("\n") for p in parts[2::2])))
    if "user" not in sections:
        raise PromptError(f"{path}: needs a '### user' section")
    for section, body in sections.items():
        placeholders(body, f"{path} ({section})")
    return Prompt(name, sections)
