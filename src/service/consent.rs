//! Granting and revoking data-sharing consent: the consent row, its outbox event and the
//! "touch" of the firm's matches (so that a bank's incremental sync learns the firm became
//! visible or invisible) happen in one transaction.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::domain::access::Principal;
use crate::domain::consent::NewConsent;
use crate::error::AppResult;
use crate::store::consents::{self, ConsentRecord};
use crate::store::{Conn, events, matches};

pub async fn grant(
    conn: &mut Conn,
    firm_id: Uuid,
    c: &NewConsent,
    by: Option<&Principal>,
    now: DateTime<Utc>,
) -> AppResult<ConsentRecord> {
    let record = consents::insert(conn, firm_id, c, by.map(|p| p.key_id), now).await?;
    events::record(
        conn,
        events::NewEvent {
            event_type: "consent.granted",
            firm_id: Some(firm_id),
            bank_id: c.bank_id,
            fact_key: Some(format!("consent:{}:granted", record.consent.id)),
            data: json!({
                "consent_id": record.consent.id,
                "firm_id": firm_id,
                "bank_id": c.bank_id,
                "purpose": c.purpose,
                "expires_at": c.expires_at,
            }),
        },
        now,
    )
    .await?;
    matches::touch(conn, firm_id, c.bank_id, now).await?;
    Ok(record)
}

/// Revokes; `Ok(false)` if it was already revoked (no second event).
pub async fn revoke(conn: &mut Conn, record: &ConsentRecord, by: &Principal, now: DateTime<Utc>) -> AppResult<bool> {
    let c = &record.consent;
    if !consents::revoke(conn, c.firm_id, c.id, by.key_id, now).await? {
        return Ok(false);
    }
    events::record(
        conn,
        events::NewEvent {
            event_type: "consent.revoked",
            firm_id: Some(c.firm_id),
            bank_id: c.bank_id,
            fact_key: Some(format!("consent:{}:revoked", c.id)),
            data: json!({ "consent_id": c.id, "firm_id": c.firm_id, "bank_id": c.bank_id }),
        },
        now,
    )
    .await?;
    matches::touch(conn, c.firm_id, c.bank_id, now).await?;
    Ok(true)
}
