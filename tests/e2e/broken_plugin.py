"""A plugin that fails to load on purpose: the palette must show it greyed out with this error."""

raise RuntimeError("the e2e broken plugin fails on purpose")
