//! Journeys: each test is a story one kind of user lives, told only through the public HTTP API
//! and the command line, with a real webhook receiver that verifies signatures with the Standard
//! Webhooks reference library. No store or service call, no hand-made event. SQLite by default;
//! `SRDI_TEST_DATABASE=postgres` for PostgreSQL.

// Shared with the API tests; not every helper is used here.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
#[path = "../support/webhook_receiver.rs"]
mod receiver;
// Shared with other test binaries and formatted by its owner: rustfmt leaves it alone here.
#[rustfmt::skip]
#[path = "../support/smtp_sink.rs"]
mod smtp_sink;

mod bank;
mod enterprise;
mod fund;
mod office;

/// The JSON of a successful answer (`null` when it has no body); panics with the answer otherwise.
pub async fn ok(resp: reqwest::Response) -> serde_json::Value {
    let status = resp.status();
    let text = resp.text().await.expect("text");
    assert!(status.is_success(), "{status}: {text}");
    if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).expect("json") }
}
