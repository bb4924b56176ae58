"""Reflex states: each page owns its substate; graph logic lives in editor.graph / editor.views."""
