//! imports (issue 16).
