//! The webhook side of the transactional outbox. `store::events::record` calls [`fan_out`] right
//! after inserting an event, inside the caller's transaction: the signed message and one delivery
//! per endpoint in scope commit together with the business change, or not at all. Nothing is sent
//! from here; the dispatcher picks the deliveries up once they are committed.
//!
//! Scope (issue 5, item 7) is decided here, when the event happens, and consent is checked again
//! before every attempt (see the dispatcher), so a revoked consent also stops pending retries.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::payload::{EventEnvelope, EventId, EventType};
use crate::error::{AppError, AppResult};
use crate::store::Conn;
use crate::store::events::Event;
use crate::store::webhooks::{self as store, Scope};

/// The `webhook-id` and envelope id of an event: `evt_` + the event's (deterministic) id, so a
/// fact keeps one id across retries, resends and recoveries.
pub fn webhook_id(event_id: Uuid) -> EventId {
    EventId::parse(&format!("evt_{}", event_id.simple())).unwrap_or_else(|_| EventId::random())
}

/// Who may receive an event of this type about this firm / addressed to this bank.
///
/// * `consent.granted` / `consent.revoked`: the bank named, or every bank when the consent was
///   for all partner banks; never gated by consent (a revocation must reach the bank).
/// * `webhook.endpoint_disabled`: the bank whose endpoint it was.
/// * Bank-addressed events about a firm (`match.*`, `application.*`): that bank only, and only
///   while the firm's consent covers it.
/// * Firm-level events (`listing.stage_reached`, no bank): the banks the firm's consent covers.
/// * `webhook.ping` is never fanned out (it goes to one endpoint on request).
pub fn scope_of(kind: EventType, firm_id: Option<Uuid>, bank_id: Option<Uuid>) -> Scope {
    match kind {
        EventType::WebhookPing => Scope::Nobody,
        EventType::ConsentGranted | EventType::ConsentRevoked => match bank_id {
            Some(bank_id) => Scope::Bank { bank_id, consent_of: None },
            None => Scope::AllBanks,
        },
        EventType::EndpointDisabled => match bank_id {
            Some(bank_id) => Scope::Bank { bank_id, consent_of: None },
            None => Scope::Nobody,
        },
        _ => match (bank_id, firm_id) {
            (Some(bank_id), consent_of) => Scope::Bank { bank_id, consent_of },
            (None, Some(firm_id)) => Scope::CoveringBanks { firm_id },
            (None, None) => Scope::Nobody,
        },
    }
}

/// Whether deliveries of an event need the firm's consent to cover the bank at send time.
pub fn needs_consent(scope: Scope) -> bool {
    matches!(scope, Scope::Bank { consent_of: Some(_), .. } | Scope::CoveringBanks { .. })
}

/// The product an event is about, if its data names one (for endpoint product filters).
pub fn product_of(data: &serde_json::Value) -> Option<Uuid> {
    data.get("product_id").and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok())
}

/// Writes the signed message and one delivery per subscribed endpoint in scope, in the caller's
/// transaction. Events of types banks cannot subscribe to are ignored. Returns how many
/// deliveries were queued (disabled endpoints get a `failed`, recoverable one that is not counted).
pub async fn fan_out(conn: &mut Conn, ev: &Event, now: DateTime<Utc>) -> AppResult<usize> {
    let Ok(kind) = ev.event_type.parse::<EventType>() else { return Ok(0) };
    let scope = scope_of(kind, ev.firm_id, ev.bank_id);
    if scope == Scope::Nobody {
        return Ok(0);
    }
    let targets = store::endpoints_in_scope(conn, kind, scope, product_of(&ev.data), now).await?;
    if targets.is_empty() {
        return Ok(0);
    }
    let envelope =
        EventEnvelope::new(webhook_id(ev.id), kind, ev.occurred_at, ev.firm_seq.unwrap_or(0), ev.data.clone());
    let bytes = envelope
        .to_bytes()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("event {} cannot be sent as a webhook: {e}", ev.id)))?;
    let body = String::from_utf8(bytes).map_err(|e| AppError::Internal(e.into()))?;
    store::insert_message(conn, ev.id, kind, ev.firm_id, needs_consent(scope), &body, now).await?;
    store::insert_deliveries(conn, ev.id, &targets, "event", now).await?;
    Ok(targets.iter().filter(|(_, enabled)| *enabled).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_rules() {
        let (fid, bid) = (Uuid::now_v7(), Uuid::now_v7());
        let (f, b) = (Some(fid), Some(bid));
        use EventType as T;
        let cases: &[(T, Option<Uuid>, Option<Uuid>, Scope)] = &[
            (T::MatchCreated, f, b, Scope::Bank { bank_id: bid, consent_of: f }),
            (T::MatchWithdrawn, f, b, Scope::Bank { bank_id: bid, consent_of: f }),
            (T::ApplicationSubmitted, f, b, Scope::Bank { bank_id: bid, consent_of: f }),
            (T::ApplicationWithdrawn, f, b, Scope::Bank { bank_id: bid, consent_of: f }),
            (T::ApplicationStatusChanged, None, b, Scope::Bank { bank_id: bid, consent_of: None }),
            (T::ConsentGranted, f, b, Scope::Bank { bank_id: bid, consent_of: None }),
            (T::ConsentRevoked, f, b, Scope::Bank { bank_id: bid, consent_of: None }),
            (T::ConsentRevoked, f, None, Scope::AllBanks),
            (T::ConsentGranted, f, None, Scope::AllBanks),
            (T::ListingStageReached, f, None, Scope::CoveringBanks { firm_id: fid }),
            (T::ListingStageReached, None, None, Scope::Nobody),
            (T::EndpointDisabled, None, b, Scope::Bank { bank_id: bid, consent_of: None }),
            (T::EndpointDisabled, None, None, Scope::Nobody),
            (T::WebhookPing, f, b, Scope::Nobody),
        ];
        for (kind, firm, bank, want) in cases {
            assert_eq!(scope_of(*kind, *firm, *bank), *want, "{kind} firm={firm:?} bank={bank:?}");
        }
        assert!(needs_consent(scope_of(T::MatchCreated, f, b)));
        assert!(needs_consent(scope_of(T::ListingStageReached, f, None)));
        assert!(!needs_consent(scope_of(T::ConsentRevoked, f, b)));
        assert!(!needs_consent(scope_of(T::ConsentRevoked, f, None)));
    }

    #[test]
    fn webhook_ids_are_the_event_ids() {
        let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, b"fact");
        let w = webhook_id(id);
        assert_eq!(w.to_string(), format!("evt_{}", id.simple()));
        assert_eq!(w.uuid(), id);
        assert_eq!(webhook_id(id), w, "stable");
    }

    #[test]
    fn product_is_read_from_the_data() {
        let p = Uuid::now_v7();
        assert_eq!(product_of(&serde_json::json!({"product_id": p})), Some(p));
        assert_eq!(product_of(&serde_json::json!({"product_id": "x"})), None);
        assert_eq!(product_of(&serde_json::json!({"firm_id": p})), None);
    }
}
