//! Webhooks to partner banks: Standard Webhooks signing, payloads, the SSRF guard, the retry
//! policy, endpoints, the outbox fan-out and the dispatcher.

pub mod dispatcher;
pub mod endpoint;
pub mod outbox;
pub mod payload;
pub mod retry;
pub mod settings;
pub mod signing;
pub mod ssrf;
