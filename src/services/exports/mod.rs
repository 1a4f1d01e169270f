//! exports (issue 16).
