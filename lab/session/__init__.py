"""The session: Session (runs and their provenance), autosave, export."""
