"""The explorer: study files under the current folder and sample_studies/, and the studies
in the open storage. Scanning runs on a thread."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

SKIP = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}


HEAD_BYTES = 4000  # a study file says 'train:' near its top


def find_study_files(roots: list[Path], depth: int = 3, limit: int = 200) -> list[Path]:
    """YAML files that look like study files (they have ``train:``), nearest first."""
    found: list[Path] = []
    seen: set[Path] = set()

    def walk(folder: Path, level: int) -> None:
        if level > depth or len(found) >= limit:
            return
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.name in SKIP or entry.name.endswith(".rltui") or entry.name.startswith("."):
                continue
            if entry.is_dir():
                walk(entry, level + 1)
            elif entry.suffix in (".yaml", ".yml") and entry.resolve() not in seen:
                try:
                    if not entry.is_file():  # a FIFO or a device would block the read
                        continue
                    with entry.open("rb") as file:  # a huge YAML file: only its head
                        head = file.read(HEAD_BYTES).decode("utf-8", errors="replace")
                except OSError:
                    continue
                if "\ntrain:" in f"\n{head}":
                    seen.add(entry.resolve())
                    found.append(entry)

    for root in roots:
        walk(root, 0)
    return found


class Explorer(Tree[object]):
    """Study files and stored studies; Enter opens one."""

    class StudyFileChosen(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    class StoredStudyChosen(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, roots: list[Path], *, id: str | None = None) -> None:
        super().__init__("explorer", id=id)
        self.roots = roots
        self.show_root = False
        self.guide_depth = 2
        self._files: TreeNode[object] = self.root.add("Study files", expand=True)
        self._studies: TreeNode[object] = self.root.add("Studies in storage", expand=True)
        self._listed: set[Path] = set()  # the study files shown, resolved

    def on_mount(self) -> None:
        self.rescan()

    def rescan(self) -> None:
        self._scan()

    def lists(self, path: Path) -> bool:
        """Whether ``path`` is among the study files shown."""
        return path.resolve() in self._listed

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan")
    def _scan(self) -> None:
        files = find_study_files(self.roots)
        self.app.call_from_thread(self._show_files, files)

    def _show_files(self, files: list[Path]) -> None:
        self._files.remove_children()
        self._listed = {path.resolve() for path in files}
        cwd = Path.cwd()
        for path in files:
            try:
                label = str(path.resolve().relative_to(cwd))
            except ValueError:
                label = str(path)
            self._files.add_leaf(label, data=path)
        if not files:
            self._files.add_leaf("(none found)")

    def show_studies(self, names: list[str], current: str | None) -> None:
        self._studies.remove_children()
        for name in names:
            self._studies.add_leaf(f"● {name}" if name == current else f"  {name}", data=name)
        if not names:
            self._studies.add_leaf("(no storage open)")

    def on_tree_node_selected(self, event: Tree.NodeSelected[object]) -> None:
        event.stop()
        data = event.node.data
        if isinstance(data, Path):
            self.post_message(self.StudyFileChosen(data))
        elif isinstance(data, str):
            self.post_message(self.StoredStudyChosen(data))
