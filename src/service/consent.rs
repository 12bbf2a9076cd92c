//! Granting and revoking data-sharing consent: the consent row, its outbox event, and the match
//! events and "touch" for each bank whose sight of the firm changed (so that a bank's webhooks and
//! its incremental sync both learn the firm became visible or invisible) happen in one transaction.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::domain::access::Principal;
use crate::domain::consent::{Consent, ConsentDraft, MAX_CONSENT_DAYS, NewConsent, covers};
use crate::domain::events::{EventKind, MatchReason};
use crate::domain::ids::{BankId, FirmId};
use crate::error::{AppError, AppResult};
use crate::service::events::{self, NewEvent, Numbering};
use crate::store::consents;
pub use crate::store::consents::ConsentRecord;
use crate::store::{Conn, banks, firms, matches};

#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn grant(
    conn: &mut Conn,
    firm_id: FirmId,
    c: &NewConsent,
    by: Option<&Principal>,
    now: DateTime<Utc>,
) -> AppResult<ConsentRecord> {
    let record = consents::insert(conn, firm_id, c, by.map(|p| p.key_id), now).await?;
    let data = json!({
        "consent_id": record.consent.id,
        "firm_id": firm_id,
        "bank_id": c.bank_id,
        "purpose": c.purpose,
        "expires_at": c.expires_at,
    });
    let key = format!("consent:{}:granted", record.consent.id);
    events::record(conn, NewEvent::fact(EventKind::ConsentGranted, Some(firm_id), c.bank_id, key, data), now).await?;
    let after = firm_consents(conn, firm_id, now).await?;
    let before: Vec<Consent> = after.iter().filter(|k| k.id != record.consent.id).cloned().collect();
    announce_coverage_change(conn, firm_id, &before, &after, MatchReason::ConsentGranted, now).await?;
    Ok(record)
}

/// Revokes; `Ok(false)` if it was already revoked (no second event).
#[tracing::instrument(skip_all, fields(key_id = %by.key_id))]
pub async fn revoke(conn: &mut Conn, record: &ConsentRecord, by: &Principal, now: DateTime<Utc>) -> AppResult<bool> {
    let c = &record.consent;
    if !consents::revoke(conn, c.firm_id, c.id, by.key_id, now).await? {
        return Ok(false);
    }
    let data = json!({ "consent_id": c.id, "firm_id": c.firm_id, "bank_id": c.bank_id });
    let key = format!("consent:{}:revoked", c.id);
    events::record(conn, NewEvent::fact(EventKind::ConsentRevoked, Some(c.firm_id), c.bank_id, key, data), now).await?;
    let after = firm_consents(conn, c.firm_id, now).await?;
    let before: Vec<Consent> = after
        .iter()
        .map(|k| if k.id == c.id { Consent { revoked_at: None, ..k.clone() } } else { k.clone() })
        .collect();
    announce_coverage_change(conn, c.firm_id, &before, &after, MatchReason::ConsentRevoked, now).await?;
    Ok(true)
}

async fn firm_consents(conn: &mut Conn, firm_id: FirmId, now: DateTime<Utc>) -> AppResult<Vec<Consent>> {
    Ok(consents::for_firm(conn, firm_id, now).await?.into_iter().map(|r| r.consent).collect())
}

/// Tells each bank whose sight of the firm's active matches a consent change altered: a bank
/// that now sees the firm gets `match.created` for each active match of its products, one that
/// no longer sees it gets `match.withdrawn` (ids only), both with the `reason`. The pairs get a
/// new change sequence number, so an incremental pull reports the same change, and the events
/// carry it, so a mirror kept from webhooks alone orders them like the pull. `before` and `after`
/// are the firm's consents without and with the change; coverage is decided by the domain rule.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn announce_coverage_change(
    conn: &mut Conn,
    firm_id: FirmId,
    before: &[Consent],
    after: &[Consent],
    reason: MatchReason,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    // The change sequence first: its row lock orders this transaction against matching writers,
    // so a match they write is either seen below or written after this consent change commits
    // (and then fanned out under it).
    let seq = matches::next_seq(conn).await?;
    let changed: Vec<BankId> = matches::active_banks(conn, firm_id)
        .await?
        .into_iter()
        .filter(|b| covers(before, *b, now) != covers(after, *b, now))
        .collect();
    let touched = matches::touch(conn, firm_id, &changed, seq, now).await?;
    let notices: Vec<NewEvent> = touched
        .iter()
        .filter(|t| t.active)
        .map(|t| {
            let gained = covers(after, t.bank_id, now);
            let (kind, data) = if gained {
                (
                    EventKind::MatchCreated,
                    json!({ "firm_id": firm_id, "product_id": t.product_id, "version": t.version, "seq": seq,
                        "status": "active", "score": t.score, "reason": MatchReason::ConsentGranted }),
                )
            } else {
                let lost = if reason == MatchReason::ConsentGranted { MatchReason::ConsentRevoked } else { reason };
                (
                    EventKind::MatchWithdrawn,
                    json!({ "firm_id": firm_id, "product_id": t.product_id, "version": t.version, "seq": seq,
                        "status": "withdrawn", "reason": lost }),
                )
            };
            NewEvent {
                numbering: Numbering::Unnumbered,
                ..NewEvent::fact(
                    kind,
                    Some(firm_id),
                    Some(t.bank_id),
                    format!("match:{firm_id}:{}:seq:{seq}", t.product_id),
                    data,
                )
            }
        })
        .collect();
    Ok(events::record_many(conn, notices, now).await?.len())
}

/// Grants a consent as the caller (the enterprise itself, or the office recording a paper
/// consent). Without an expiry the consent runs for the longest term allowed.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn grant_as(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: FirmId,
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
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn list_as(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: FirmId,
    now: DateTime<Utc>,
) -> AppResult<Vec<ConsentRecord>> {
    caller.require_firm(firm_id)?;
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    consents::for_firm(conn, firm_id, now).await
}

/// Revokes one of the firm's consents as the caller; `Ok(false)` when it was already revoked.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn revoke_as(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: FirmId,
    consent_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    caller.require_firm(firm_id)?;
    let record = consents::get(conn, firm_id, consent_id, now).await?.ok_or(AppError::not_found("consent"))?;
    revoke(conn, &record, caller, now).await
}

/// The partner banks a firm can grant consent to (the enterprise itself, the office).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn grantable_banks(
    conn: &mut Conn,
    caller: &Principal,
    firm_id: FirmId,
) -> AppResult<Vec<crate::domain::bank::Bank>> {
    caller.require_firm(firm_id)?;
    banks::list(conn, None, 500).await
}
