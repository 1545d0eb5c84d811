"""SQL lives here: one module per table family. Functions take a sqlite3 connection."""
