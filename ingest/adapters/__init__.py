"""Feed adapters: each turns a departmental source into batches of raw records."""
