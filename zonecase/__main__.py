"""``python -m zonecase`` runs the command line."""

from zonecase.cli import main

if __name__ == "__main__":  # not when a rebuilding process is started from it
    main()
