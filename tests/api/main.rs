//! Black-box API tests: each starts the real application on 127.0.0.1:0 over a fresh database
//! (SQLite by default; `SRDI_TEST_DATABASE=postgres` for PostgreSQL).

mod helpers;
// Shared with other test binaries and formatted by its owner: rustfmt leaves it alone here.
#[rustfmt::skip]
#[path = "../support/smtp_sink.rs"]
mod smtp_sink;

mod authz;
mod boundary;
mod contract;
mod events;
mod exports;
mod financing;
mod firm_inputs;
mod firms;
mod hygiene;
mod import;
mod investments;
mod keys;
mod listing;
mod load;
mod pool;
mod rematch;
mod roadshows;
mod statistics;
mod webhooks;
