"""What every harness returns: a titled Markdown section and whether its targets were met."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Section:
    title: str
    intro: str = ""
    rows: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    passed: bool = True
    skipped: str | None = None

    def markdown(self) -> str:
        lines = [f"## {self.title}\n"]
        if self.skipped:
            lines.append(f"Skipped: {self.skipped}\n")
            return "\n".join(lines)
        if self.intro:
            lines.append(self.intro + "\n")
        if self.header:
            lines.append("| " + " | ".join(self.header) + " |")
            lines.append("|" + "---|" * len(self.header))
            lines += ["| " + " | ".join(r) + " |" for r in self.rows]
            lines.append("")
        lines += [f"- {n}" for n in self.notes]
        lines.append(f"\nTargets met: **{'yes' if self.passed else 'NO'}**\n")
        return "\n".join(lines)
