//! corrections (issue 16).
