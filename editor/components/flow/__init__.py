"""The React Flow canvas wrapper."""
from .canvas import FlowCanvas, flow_canvas

__all__ = ["FlowCanvas", "flow_canvas"]
