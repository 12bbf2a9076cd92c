//! The transactional outbox. A business change writes its event in the same transaction, so an
//! event exists exactly when its change committed. Consumers (matching, webhooks, mail) read it
//! from here; nothing is sent from inside a request.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{Conn, firms};
use crate::db::row::RowExt;
use crate::db::types::ts;
use crate::error::AppResult;

/// Namespace for deterministic event ids (UUIDv5 of the business fact).
const EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_2c1e_8a57_4b0e_9f3a_5d2b_7c41_e9a0);

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub firm_id: Option<Uuid>,
    pub bank_id: Option<Uuid>,
    /// What makes the fact unique, e.g. `match:<firm>:<product>:v<n>`: the same fact always yields
    /// the same event id, so it is recorded once. `None`: the fact is "the firm's next change",
    /// keyed by the firm's event sequence number, which the firm row hands out under its lock.
    pub fact_key: Option<String>,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: Uuid,
    pub event_type: String,
    pub firm_id: Option<Uuid>,
    pub bank_id: Option<Uuid>,
    pub firm_seq: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

pub fn event_id(event_type: &str, fact_key: &str) -> Uuid {
    Uuid::new_v5(&EVENT_NAMESPACE, format!("{event_type}|{fact_key}").as_bytes())
}

pub fn from_row(r: &AnyRow) -> Result<Event, sqlx::Error> {
    Ok(Event {
        id: r.uuid("id")?,
        event_type: r.text("event_type")?,
        firm_id: r.opt_uuid("firm_id")?,
        bank_id: r.opt_uuid("bank_id")?,
        firm_seq: r.opt_int("firm_seq")?,
        occurred_at: r.ts("occurred_at")?,
        data: r.json("payload")?,
    })
}

/// Records an event in the caller's transaction. Returns `None` when the fact was already recorded.
pub async fn record(conn: &mut Conn, ev: NewEvent, now: DateTime<Utc>) -> AppResult<Option<Event>> {
    if let Some(key) = &ev.fact_key
        && exists(conn, event_id(ev.event_type, key)).await?
    {
        return Ok(None);
    }
    let firm_seq = match ev.firm_id {
        Some(f) => Some(firms::next_event_seq(conn, f).await?),
        None => None,
    };
    let fact_key = match (&ev.fact_key, ev.firm_id, firm_seq) {
        (Some(k), _, _) => k.clone(),
        (None, Some(f), Some(seq)) => format!("firm:{f}:seq:{seq}"),
        _ => return Err(anyhow::anyhow!("event {} has neither a fact key nor a firm", ev.event_type).into()),
    };
    let id = event_id(ev.event_type, &fact_key);
    sqlx::query(
        "INSERT INTO events (id, event_type, firm_id, bank_id, firm_seq, occurred_at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.to_string())
    .bind(ev.event_type)
    .bind(ev.firm_id.map(|f| f.to_string()))
    .bind(ev.bank_id.map(|b| b.to_string()))
    .bind(firm_seq)
    .bind(ts(now))
    .bind(ev.data.to_string())
    .execute(&mut *conn)
    .await?;
    let event = Event {
        id,
        event_type: ev.event_type.to_owned(),
        firm_id: ev.firm_id,
        bank_id: ev.bank_id,
        firm_seq,
        occurred_at: now,
        data: ev.data,
    };
    // Webhook deliveries for the banks in scope, in this same transaction (issue 5).
    crate::webhooks::outbox::fan_out(conn, &event, now).await?;
    Ok(Some(event))
}

async fn exists(conn: &mut Conn, id: Uuid) -> AppResult<bool> {
    let row =
        sqlx::query("SELECT id FROM events WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    Ok(row.is_some())
}

/// Events of one firm in sequence order.
pub async fn for_firm(conn: &mut Conn, firm_id: Uuid) -> AppResult<Vec<Event>> {
    let rows = sqlx::query("SELECT * FROM events WHERE firm_id = $1 ORDER BY firm_seq")
        .bind(firm_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
