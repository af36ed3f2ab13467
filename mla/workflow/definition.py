"""Public entry points for definitions: ``load``, ``check``, ``load_all`` and ``WorkflowSet``.

File naming: ``<name>.yaml`` holds the current version of workflow ``<name>``; older versions
stay beside it as ``<name>.v<N>.yaml`` because a request keeps the version it was opened under.

Liveness findings (:mod:`mla.workflow.liveness`) are errors in the newest version of a
workflow and warnings in a superseded one: an old version is kept only so that the requests
opened under it stay readable, and refusing it would lock those requests away. The newest
version's stop the start (:func:`load_all`) as ``mla workflows check`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from mla.errors import N_, ConfigError, NotFound
from mla.workflow.liveness import liveness
from mla.workflow.loader import build
from mla.workflow.model import Workflow
from mla.workflow.registry import GUARDS
from mla.workflow.shapes import DefinitionError
from mla.workflow.validate import validate

_FILE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)(?:\.v(?P<version>\d+))?\.ya?ml$")


class WorkflowInvalid(ConfigError):
    """One or more definitions are invalid; the process must not start with them."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def _check_one(path: Path, *, live: bool = True) -> tuple[Workflow | None, list[DefinitionError]]:
    wf, errors = build(path)
    if wf is None:
        return None, errors
    errors += validate(wf, GUARDS)
    # Liveness reads a sound graph; on a broken one it would only repeat the breakage.
    if live and not errors:
        errors += liveness(wf)
    errors.sort(key=lambda e: e.line)
    return wf, errors


def _file_name_errors(path: Path, wf: Workflow) -> list[DefinitionError]:
    """A set of definitions is found by file name: ``<name>.yaml`` or ``<name>.vN.yaml``."""
    errors: list[DefinitionError] = []
    match = _FILE.match(path.name)
    if match is None:
        errors.append(
            DefinitionError(str(path), 1, "file name must be <name>.yaml or <name>.vN.yaml")
        )
    else:
        if match["name"] != wf.name:
            errors.append(
                DefinitionError(
                    str(path),
                    1,
                    f"file name says {match['name']!r} but the definition is named {wf.name!r}",
                )
            )
        if match["version"] and int(match["version"]) != wf.version:
            errors.append(
                DefinitionError(
                    str(path),
                    1,
                    f"file name says version {match['version']} but 'version' is {wf.version}",
                )
            )
    return errors


def check(path: str | Path) -> list[DefinitionError]:
    """Every error in the definition at ``path`` (empty when it is valid), liveness findings
    included as errors (alone, a file is the newest version it knows of). Never raises."""
    return _check_one(Path(path))[1]


def load(path: str | Path) -> Workflow:
    """The valid workflow at ``path``; raises :class:`WorkflowInvalid` listing every error."""
    wf, errors = _check_one(Path(path))
    if errors or wf is None:
        raise WorkflowInvalid(errors)
    return wf


def definition_files(directory: str | Path) -> list[Path]:
    """The definition files of ``directory``, sorted (``*.yaml`` and ``*.yml``)."""
    folder = Path(directory)
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _check_set(
    paths: Iterable[str | Path],
) -> tuple[list[Workflow], list[DefinitionError], list[DefinitionError]]:
    """The sound workflows, the structural errors, and the liveness findings (warnings in a
    version superseded by a newer one of the same name among ``paths``)."""
    workflows: list[Workflow] = []
    errors: list[DefinitionError] = []
    seen: dict[tuple[str, int], str] = {}
    for path in map(Path, paths):
        wf, errs = _check_one(path, live=False)
        if wf is not None:
            errs += _file_name_errors(path, wf)
        errors += errs
        if wf is None or errs:
            continue
        if wf.key in seen:
            errors.append(
                DefinitionError(
                    str(path),
                    1,
                    f"duplicate workflow {wf.name!r} version {wf.version} (also in {seen[wf.key]})",
                )
            )
            continue
        seen[wf.key] = str(path)
        workflows.append(wf)
    for wf in workflows:
        match = _FILE.match(Path(wf.file).name)
        newest = max(w.version for w in workflows if w.name == wf.name)
        if match and not match["version"] and wf.version != newest:
            errors.append(
                DefinitionError(
                    wf.file,
                    1,
                    f"{Path(wf.file).name} must hold the latest "
                    f"version of {wf.name!r} ({newest}), not {wf.version}",
                )
            )
    findings = []
    for wf in workflows:
        superseded = any(w.name == wf.name and w.version > wf.version for w in workflows)
        findings += [replace(e, warning=superseded) for e in liveness(wf)]
    return workflows, errors, findings


def check_all(paths: Iterable[str | Path]) -> tuple[list[Workflow], list[DefinitionError]]:
    """Check each file and the set: no (name, version) twice; the current file
    (``<name>.yaml``) holds the highest version of its name; no dead ends (liveness), which
    are errors in the newest version of a workflow and warnings (``warning``) in older ones.
    The set is valid when no item of the list is an error."""
    workflows, errors, findings = _check_set(paths)
    return workflows, errors + findings


@dataclass(frozen=True)
class WorkflowSet:
    """Every loaded workflow version, keyed by (name, version), and the dead ends found in
    superseded versions (warnings, not fatal at start)."""

    workflows: dict[tuple[str, int], Workflow]
    findings: tuple[DefinitionError, ...] = field(default=(), compare=False)

    def get(self, name: str, version: int) -> Workflow:
        """The workflow ``name`` at ``version``; raises :class:`mla.errors.NotFound`."""
        try:
            return self.workflows[(name, version)]
        except KeyError:
            raise NotFound(
                N_("no workflow %(name)r version %(version)s"), {"name": name, "version": version}
            ) from None

    def latest(self, name: str) -> Workflow:
        """The highest version of ``name`` (used for new requests); raises NotFound."""
        versions = [v for (n, v) in self.workflows if n == name]
        if not versions:
            raise NotFound(N_("no workflow named %(name)r"), {"name": name})
        return self.workflows[(name, max(versions))]

    def names(self) -> list[str]:
        return sorted({n for n, _ in self.workflows})

    def __iter__(self) -> Iterator[Workflow]:
        return iter(self.workflows[k] for k in sorted(self.workflows))

    def __len__(self) -> int:
        return len(self.workflows)


def load_all(directory: str | Path) -> WorkflowSet:
    """Load every definition in ``directory``; raises :class:`WorkflowInvalid` if any breaks a
    structural rule or the newest version of a workflow has a dead end. A superseded
    version's dead ends (it stays for the requests opened under it, which an operator moves
    on with ``mla workflows migrate``) do not stop the load: they are in ``findings``."""
    workflows, errors, findings = _check_set(definition_files(directory))
    errors += [f for f in findings if not f.warning]
    if errors:
        raise WorkflowInvalid(errors)
    return WorkflowSet({wf.key: wf for wf in workflows}, tuple(findings))
