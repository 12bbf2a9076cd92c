//! Outgoing e-mail: composition (Chinese with an English part), calendar invitations, messages.

pub mod ics;
pub mod message;
pub mod outbox;
pub mod templates;
pub mod transport;
