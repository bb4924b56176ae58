"""The app's pages: `/` (opens the most recent pipeline), `/pipelines` (list), `/pipelines/<id>` (editor)."""
