"""The headless command line: the parser shell, shared helpers, recover and export."""
