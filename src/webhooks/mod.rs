//! Webhooks to partner banks: Standard Webhooks signing, payloads, the SSRF guard and the retry policy.

pub mod payload;
pub mod retry;
pub mod signing;
pub mod ssrf;
