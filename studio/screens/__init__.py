"""The studio's screens, one per pipeline area; each module exposes `SCREEN`."""
