"""``python -m nesyflow.cli`` — the same as the ``nesyflow`` command."""

from nesyflow.cli.app import main

main()
