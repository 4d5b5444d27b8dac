"""The delivery capability's repositories: the ledger of sends, recipient controls and
preferences, waiting rows."""
