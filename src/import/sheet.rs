//! Importer stub: to be written.
