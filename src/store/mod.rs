//! Queries, one module per aggregate. Each query is written once in portable SQL with `$n`
//! parameters and runs on both backends through the `Any` driver. Functions take a connection
//! (`&mut AnyConnection`: a pooled connection or a transaction) so callers own the transaction.

pub mod events;
pub mod financials;
pub mod firms;
pub mod funds;
pub mod idempotency;
pub mod investments;
pub mod keys;
pub mod listing;
pub mod pool;
pub mod registrations;
pub mod roadshows;
pub mod webhooks;

pub type Conn = sqlx::AnyConnection;
