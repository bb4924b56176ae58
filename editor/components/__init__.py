"""UI pieces of the editor pages."""
