"""Fenced code blocks and relative links of the project's Markdown pages (docs/README.md says the convention).

A small line reader rather than a Markdown library: the tests need only fences (with their info string and
line) and inline links, and must name the exact line of a failing example.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SHELLS = ("sh", "bash", "shell")
EXECUTABLE = SHELLS + ("python",)
RUNNABLE, NOT_RUNNABLE, OUTPUT = "runnable", "not-runnable", "output"
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts (1-based line of its opening fence), its info words and text."""

    path: Path
    line: int
    words: tuple[str, ...]
    text: str
    follows_block: bool  # only blank lines separate it from the previous block's closing fence

    @property
    def language(self) -> str:
        return self.words[0] if self.words else ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def runnable(self) -> bool:
        return RUNNABLE in self.words


@dataclass(frozen=True)
class Example:
    """A runnable block and, when the next block is its `output`, the standard output it states."""

    block: Block
    expected: str | None


def pages() -> list[Path]:
    """The pages whose examples and links are checked: README.md and every docs/*.md."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index, last_close = 0, None
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        fence, start = match.group("fence"), index
        body: list[str] = []
        index += 1
        while index < len(lines) and not re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$",
                                                   lines[index]):
            body.append(lines[index][len(match.group("indent")):] if lines[index].startswith(match.group("indent"))
                        else lines[index])
            index += 1
        follows = last_close is not None and all(not line.strip() for line in lines[last_close + 1:start])
        found.append(Block(path, start + 1, tuple(match.group("info").split()), "\n".join(body) + "\n", follows))
        last_close = index
        index += 1
    return found


def examples(path: Path) -> list[Example]:
    """The runnable blocks of a page, each with the expected output that directly follows it (if any)."""
    found = blocks(path)
    result = []
    for position, block in enumerate(found):
        if not block.runnable:
            continue
        after = found[position + 1] if position + 1 < len(found) else None
        expected = after.text if after is not None and after.follows_block and OUTPUT in after.words else None
        result.append(Example(block, expected))
    return result


def outside_fences(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines that are not inside a fenced block."""
    inside: set[int] = set()
    for block in blocks(path):
        inside.update(range(block.line, block.line + block.text.count("\n") + 2))
    return [(number, text) for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if number not in inside]


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every inline link outside code, in order."""
    found = []
    for number, text in outside_fences(path):
        text = re.sub(r"`[^`]*`", "", text)  # inline code is not a link
        found.extend((number, m.group("target")) for m in LINK.finditer(text))
    return found


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    title = re.sub(r"`|\*\*|\*|_", "", title).strip().lower()
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(m.group("title")) for _, text in outside_fences(path) if (m := HEADING.match(text))}
