"""Assets: each assets request's register of property sought, frozen, confiscated and
disposed of (Palermo Arts. 12-14), and links between requests."""
