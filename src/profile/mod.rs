//! Profile engine.
