//! Use cases shared by the HTTP API and the command line: each runs in one transaction and
//! writes its events to the outbox in that same transaction.

pub mod api_keys;
pub mod applications;
pub mod banks;
pub mod consent;
pub mod events;
pub mod financing;
pub mod firm_inputs;
pub mod firms;
pub mod funds;
pub mod idempotency;
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
pub mod webhook_dispatcher;
pub mod webhooks;

/// The office as sender and organizer of the mails a use case queues, from `SRDI_MAIL_FROM`.
pub fn mail_organizer(config: &crate::config::Config) -> crate::mail::ics::Party {
    crate::mail::outbox::organizer(config)
}
