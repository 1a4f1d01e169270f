//! corrections (issue 16), on both databases.
