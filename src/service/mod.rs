//! Use cases shared by the HTTP API and the command line: each runs in one transaction and
//! writes its events to the outbox in that same transaction.

pub mod api_keys;
pub mod applications;
pub mod consent;
pub mod events;
pub mod financing;
pub mod firm_inputs;
pub mod firms;
pub mod import;
pub mod investments;
pub mod listing;
pub mod matches;
pub mod matching;
pub mod paging;
pub mod pool;
pub mod products;
pub mod roadshows;
pub mod sessions;
pub mod stats;
pub mod webhooks;
