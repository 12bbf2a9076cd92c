//! The `events` outbox table. A business change writes its event in the same transaction, so an
//! event exists exactly when its change committed. Consumers (matching, webhooks, mail) read it
//! from here; nothing is sent from inside a request.
//!
//! Producers do not call [`insert_many`] themselves: `service::events::record_many` does, and
//! fans the new events out to webhook endpoints in the same transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{Conn, firms};
use crate::db::Dialect;
use crate::db::row::{RowExt, list_placeholders};
use crate::db::types::ts;
use crate::domain::events::EventKind;
use crate::domain::ids::{BankId, FirmId};
use crate::error::{AppError, AppResult};

/// Namespace for deterministic event ids (UUIDv5 of the business fact).
const EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_2c1e_8a57_4b0e_9f3a_5d2b_7c41_e9a0);

/// Events per insert statement. They travel as one JSON parameter (a few hundred bytes each), so
/// a statement carries a few megabytes at most.
const INSERT_CHUNK: usize = 10_000;

/// One event as the insert reads it from its JSON parameter.
#[derive(Serialize)]
struct EventRow {
    id: Uuid,
    event_type: &'static str,
    firm_id: Option<FirmId>,
    bank_id: Option<BankId>,
    firm_seq: Option<i64>,
    payload: String,
}

/// Where an event sits in its firm's change sequence (`firm_seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbering {
    /// The firm's next number, handed out by the firm row under its lock (single changes).
    Next,
    /// A number the writer already took for the firm (bulk writers that number many firms at once).
    Given(i64),
    /// Not in the firm's sequence: match events, which the pair's version and change sequence order,
    /// and are written by the matching engine without locking firm rows.
    Unnumbered,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventKind,
    pub firm_id: Option<FirmId>,
    pub bank_id: Option<BankId>,
    /// What makes the fact unique, e.g. `match:<firm>:<product>:v<n>`: the same fact always yields
    /// the same event id, so it is recorded once. `None`: the fact is "the firm's change number n".
    pub fact_key: Option<String>,
    pub numbering: Numbering,
    pub data: serde_json::Value,
}

impl NewEvent {
    /// The firm's next change, named by its sequence number.
    pub fn firm_change(kind: EventKind, firm_id: FirmId, data: serde_json::Value) -> Self {
        NewEvent { kind, firm_id: Some(firm_id), bank_id: None, fact_key: None, numbering: Numbering::Next, data }
    }

    /// A fact named by its key; numbered in the firm's sequence when it is about a firm.
    pub fn fact(
        kind: EventKind,
        firm_id: Option<FirmId>,
        bank_id: Option<BankId>,
        key: String,
        data: serde_json::Value,
    ) -> Self {
        let numbering = if firm_id.is_some() { Numbering::Next } else { Numbering::Unnumbered };
        NewEvent { kind, firm_id, bank_id, fact_key: Some(key), numbering, data }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: Uuid,
    #[serde(serialize_with = "kind_text")]
    pub kind: EventKind,
    pub firm_id: Option<FirmId>,
    pub bank_id: Option<BankId>,
    pub firm_seq: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

fn kind_text<S: serde::Serializer>(k: &EventKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

pub fn event_id(kind: EventKind, fact_key: &str) -> Uuid {
    Uuid::new_v5(&EVENT_NAMESPACE, format!("{}|{fact_key}", kind.as_str()).as_bytes())
}

pub fn from_row(r: &AnyRow) -> Result<Event, sqlx::Error> {
    let kind = r.text("event_type")?;
    Ok(Event {
        id: r.uuid("id")?,
        kind: kind.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        firm_id: r.opt_id("firm_id")?,
        bank_id: r.opt_id("bank_id")?,
        firm_seq: r.opt_int("firm_seq")?,
        occurred_at: r.ts("occurred_at")?,
        data: r.json("payload")?,
    })
}

/// Inserts the events in the caller's transaction with multi-row inserts and returns those that
/// were new (a fact already recorded is skipped, and takes no firm sequence number).
pub async fn insert_many(conn: &mut Conn, events: Vec<NewEvent>, now: DateTime<Utc>) -> AppResult<Vec<Event>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    // A known fact must not consume a number of its firm's sequence: look those up first.
    let keyed_next: Vec<Uuid> = events
        .iter()
        .filter(|e| e.numbering == Numbering::Next)
        .filter_map(|e| e.fact_key.as_ref().map(|k| event_id(e.kind, k)))
        .collect();
    let known = existing(conn, &keyed_next).await?;
    let mut rows: Vec<Event> = Vec::with_capacity(events.len());
    for ev in events {
        if ev.numbering == Numbering::Next
            && let Some(k) = &ev.fact_key
            && known.contains(&event_id(ev.kind, k))
        {
            continue;
        }
        let firm_seq = match (ev.numbering, ev.firm_id) {
            (Numbering::Next, Some(f)) => Some(firms::next_event_seq(conn, f).await?),
            (Numbering::Given(n), Some(_)) => Some(n),
            _ => None,
        };
        let fact_key = match (&ev.fact_key, ev.firm_id, firm_seq) {
            (Some(k), _, _) => k.clone(),
            (None, Some(f), Some(seq)) => format!("firm:{f}:seq:{seq}"),
            _ => {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "event {} has neither a fact key nor a firm sequence number",
                    ev.kind
                )));
            }
        };
        rows.push(Event {
            id: event_id(ev.kind, &fact_key),
            kind: ev.kind,
            firm_id: ev.firm_id,
            bank_id: ev.bank_id,
            firm_seq,
            occurred_at: now,
            data: ev.data,
        });
    }
    let mut inserted: std::collections::HashSet<Uuid> = std::collections::HashSet::with_capacity(rows.len());
    let source = Dialect::of(conn).json_rows(
        1,
        "x",
        &[
            ("id", "text"),
            ("event_type", "text"),
            ("firm_id", "text"),
            ("bank_id", "text"),
            ("firm_seq", "bigint"),
            ("payload", "text"),
        ],
    );
    // `WHERE true`: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON.
    let sql = format!(
        "INSERT INTO events (id, event_type, firm_id, bank_id, firm_seq, occurred_at, payload) \
         SELECT x.id, x.event_type, x.firm_id, x.bank_id, x.firm_seq, $2, x.payload FROM {source} WHERE true \
         ON CONFLICT (id) DO NOTHING RETURNING id"
    );
    let now_s = ts(now);
    for chunk in rows.chunks(INSERT_CHUNK) {
        let json: Vec<EventRow> = chunk
            .iter()
            .map(|e| EventRow {
                id: e.id,
                event_type: e.kind.as_str(),
                firm_id: e.firm_id,
                bank_id: e.bank_id,
                firm_seq: e.firm_seq,
                payload: e.data.to_string(),
            })
            .collect();
        let json = serde_json::to_string(&json).map_err(|e| AppError::Internal(e.into()))?;
        for r in sqlx::query(&sql).bind(json).bind(now_s.clone()).fetch_all(&mut *conn).await? {
            inserted.insert(r.uuid("id")?);
        }
    }
    rows.retain(|e| inserted.remove(&e.id));
    Ok(rows)
}

async fn existing(conn: &mut Conn, ids: &[Uuid]) -> AppResult<std::collections::HashSet<Uuid>> {
    let mut out = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let sql = format!("SELECT id FROM events WHERE id IN ({})", list_placeholders(chunk.len(), 1));
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.insert(r.uuid("id")?);
        }
    }
    Ok(out)
}

/// Events of one firm in sequence order.
pub async fn for_firm(conn: &mut Conn, firm_id: FirmId) -> AppResult<Vec<Event>> {
    let rows = sqlx::query("SELECT * FROM events WHERE firm_id = $1 ORDER BY firm_seq")
        .bind(firm_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
