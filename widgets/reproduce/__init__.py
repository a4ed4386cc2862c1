"""The Reproductions dock."""
