//! withdrawals (issue 16).
