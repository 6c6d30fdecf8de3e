"""``python -m zonecase`` runs the command line."""

from zonecase.cli import main

main()
