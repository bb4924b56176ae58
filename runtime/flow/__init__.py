"""Complex pipelines: named subflows run once (`flow.subflow`), per item (`flow.map`) or repeatedly (`flow.loop`)."""

from .components import FLOW_COMPONENTS, LoopNode, MapNode, SubflowNode
from .scope import FLOW_IDS, FlowError, FlowScope

__all__ = ["FLOW_COMPONENTS", "FLOW_IDS", "FlowError", "FlowScope", "LoopNode", "MapNode", "SubflowNode"]
