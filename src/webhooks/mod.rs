//! Webhooks to partner banks: Standard Webhooks signing, payloads, the SSRF guard, the retry
//! policy, endpoints and the outbox fan-out (the dispatcher that sends is
//! `service::webhook_dispatcher`).

pub mod endpoint;
pub mod outbox;
pub mod payload;
pub mod retry;
pub mod settings;
pub mod signing;
pub mod ssrf;
