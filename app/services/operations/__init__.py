"""Running an installation: backup, restore, verify, health, deletion, the demo benchmark."""
