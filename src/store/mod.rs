//! Queries, one module per aggregate. Each query is written once in portable SQL with `$n`
//! parameters and runs on both backends through the `Any` driver. Functions take a connection
//! (`&mut AnyConnection`: a pooled connection or a transaction) so callers own the transaction.

pub mod applications;
pub mod banks;
pub mod consents;
pub mod events;
pub mod financials;
pub mod firm_finance;
pub mod firm_inputs;
pub mod firms;
pub mod funds;
pub mod idempotency;
pub mod investments;
pub mod keys;
pub mod listing;
pub mod lpr;
pub mod mail_outbox;
pub mod match_reads;
pub mod matches;
pub mod pool;
pub mod products;
pub mod programme;
pub mod registrations;
pub mod roadshows;
pub mod seed;
pub mod sessions;
pub mod webhooks;

pub type Conn = sqlx::AnyConnection;
