"""airsick's marimo notebooks: the user-facing app and the exploration notebook."""

from pathlib import Path

APP = Path(__file__).with_name("app.py")
EXPLORE = Path(__file__).with_name("explore.py")
