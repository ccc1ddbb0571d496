"""Sub-command groups of the `remedy` CLI, one module each (added to remedy.cli with app.add_typer)."""
