"""Evidence: streaming encryption (``crypto``), key-encryption keys (``keyring``), blob storage
(``storage``) and checks on incoming files (``intake``). No database code lives here; the
evidence service builds on these modules."""
