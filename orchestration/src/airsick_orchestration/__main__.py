"""``python -m airsick_orchestration`` runs the ``airsick`` command."""

from airsick_orchestration.cli import main

if __name__ == "__main__":
    main()
