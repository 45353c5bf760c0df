"""The shared core: items, accounts, media, matches and scores (models), and the one way to write an item (write)."""
