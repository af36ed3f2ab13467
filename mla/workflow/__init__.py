"""Workflow definitions (data in ``workflows/*.yaml``), their validator, guards and engine.

Public API::

    load(path) -> Workflow            check(path) -> list[DefinitionError]
    load_all(directory) -> WorkflowSet    Engine(workflow), Engines(workflow_set)
    GUARDS, GuardContext              mermaid(workflow, current=None)
"""

from mla.workflow.definition import WorkflowInvalid, WorkflowSet, check, check_all, load, load_all
from mla.workflow.diagram import mermaid
from mla.workflow.engine import Availability, Engine, Engines
from mla.workflow.model import (
    Choice,
    Deadline,
    Duration,
    EscalationStep,
    Field,
    Input,
    LegalBasis,
    State,
    Transition,
    Workflow,
)
from mla.workflow.registry import GUARDS, INPUT_GUARDS, GuardContext
from mla.workflow.shapes import DefinitionError
from mla.workflow.values import field_errors, input_errors

__all__ = [
    "GUARDS",
    "INPUT_GUARDS",
    "Availability",
    "Choice",
    "Deadline",
    "DefinitionError",
    "Duration",
    "Engine",
    "Engines",
    "EscalationStep",
    "Field",
    "GuardContext",
    "Input",
    "LegalBasis",
    "State",
    "Transition",
    "Workflow",
    "WorkflowInvalid",
    "WorkflowSet",
    "check",
    "check_all",
    "field_errors",
    "input_errors",
    "load",
    "load_all",
    "mermaid",
]
