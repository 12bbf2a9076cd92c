//! Granting and revoking data-sharing consent: the consent row, its outbox event and the
//! "touch" of the firm's matches (so that a bank's incremental sync learns the firm became
//! visible or invisible) happen in one transaction.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::domain::access::Principal;
use crate::domain::consent::{ConsentDraft, MAX_CONSENT_DAYS, NewConsent};
use crate::error::{AppError, AppResult};
use crate::store::consents::{self, ConsentRecord};
use crate::store::{Conn, banks, events, firms, matches};

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

/// Grants a consent as the caller (the enterprise itself, or the office recording a paper
/// consent). Without an expiry the consent runs for the longest term allowed.
pub async fn grant_as(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: Uuid,
    mut draft: ConsentDraft,
    now: DateTime<Utc>,
) -> AppResult<ConsentRecord> {
    caller.require_firm(firm_id)?;
    if draft.expires_at.is_none() {
        draft.expires_at = Some(now + Duration::days(MAX_CONSENT_DAYS));
    }
    let new = draft.validate(now)?;
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    if let Some(b) = new.bank_id
        && banks::get(conn, b).await?.is_none()
    {
        return Err(AppError::field("bank_id", "not_found", format!("no partner bank with id {b}")));
    }
    let record = grant(conn, firm_id, &new, Some(caller), now).await?;
    tracing::info!(firm_id = %firm_id, consent_id = %record.consent.id, "consent granted");
    Ok(record)
}

/// A firm's consents with their state now (the enterprise itself, the office).
pub async fn list_as(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<ConsentRecord>> {
    caller.require_firm(firm_id)?;
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    consents::for_firm(conn, firm_id, now).await
}

/// Revokes one of the firm's consents as the caller; `Ok(false)` when it was already revoked.
pub async fn revoke_as(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: Uuid,
    consent_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    caller.require_firm(firm_id)?;
    let record = consents::get(conn, firm_id, consent_id, now).await?.ok_or(AppError::not_found("consent"))?;
    revoke(conn, &record, caller, now).await
}

/// The partner banks a firm can grant consent to (the enterprise itself, the office).
pub async fn grantable_banks(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: Uuid,
) -> AppResult<Vec<crate::domain::bank::Bank>> {
    caller.require_firm(firm_id)?;
    banks::list(conn, None, 500).await
}
