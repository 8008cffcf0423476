"""``python -m mixture``: the command line."""

from mixture.cli import main_entry

main_entry()
