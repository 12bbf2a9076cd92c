//! The one way to record what happened. Every producer (API handlers, the matching engine, bulk
//! import, seeding, listing, roadshows, applications, consents, the webhook dispatcher) calls
//! [`record`] or [`record_many`] inside the transaction of its change: the outbox rows and the
//! webhook deliveries for the banks in scope commit with the change, or not at all.

use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::store::Conn;
use crate::store::events::insert_many;
pub use crate::store::events::{Event, NewEvent, Numbering};
use crate::webhooks::outbox;

/// Records one event; `None` when the fact was already recorded (nothing is sent again).
pub async fn record(conn: &mut Conn, event: NewEvent, now: DateTime<Utc>) -> AppResult<Option<Event>> {
    Ok(record_many(conn, vec![event], now).await?.pop())
}

/// Records a batch with multi-row inserts and fans the new ones out together; returns the events
/// that were new.
pub async fn record_many(conn: &mut Conn, events: Vec<NewEvent>, now: DateTime<Utc>) -> AppResult<Vec<Event>> {
    let recorded = insert_many(conn, events, now).await?;
    outbox::fan_out(conn, &recorded, now).await?;
    Ok(recorded)
}
