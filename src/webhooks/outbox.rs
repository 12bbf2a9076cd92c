//! The webhook side of the transactional outbox. `service::events::record_many` calls [`fan_out`]
//! right after inserting events, inside the caller's transaction: the signed messages and one
//! delivery per endpoint in scope commit together with the business change, or not at all.
//! Nothing is sent from here; the dispatcher picks the deliveries up once they are committed.
//!
//! Scope is decided here, when the event happens, and consent is checked again before every
//! attempt (see the dispatcher), so a revoked consent also stops pending retries.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::payload::{EventEnvelope, EventId, EventType};
use crate::domain::events::MatchReason;
use crate::domain::ids::{BankId, FirmId};
use crate::error::{AppError, AppResult};
use crate::store::Conn;
use crate::store::events::Event;
use crate::store::webhooks::{self as store, NewMessage, Subscriber};

/// Who an event may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only this bank's endpoints; when `consent_of` names a firm, only while that firm's consent
    /// covers the bank.
    Bank {
        bank_id: BankId,
        consent_of: Option<FirmId>,
    },
    /// Every bank's endpoints (a consent granted to or revoked from all partner banks).
    AllBanks,
    /// Banks whose consent from this firm is in force.
    CoveringBanks {
        firm_id: FirmId,
    },
    Nobody,
}

/// The `webhook-id` and envelope id of an event: `evt_` + the event's (deterministic) id, so a
/// fact keeps one id across retries, resends and recoveries.
pub fn webhook_id(event_id: Uuid) -> EventId {
    EventId::parse(&format!("evt_{}", event_id.simple())).unwrap_or_else(|_| EventId::random())
}

/// Who may receive an event of this type about this firm / addressed to this bank.
///
/// * `consent.granted` / `consent.revoked`: the bank named, or every bank when the consent was
///   for all partner banks; never gated by consent (a revocation must reach the bank).
/// * `match.withdrawn` because the consent covering the bank was revoked or ran out: that bank,
///   not gated (ids only; the bank learns that a match it could see is gone).
/// * `webhook.endpoint_disabled`: the bank whose endpoint it was.
/// * Bank-addressed events about a firm (`match.*`, `application.*`): that bank only, and only
///   while the firm's consent covers it.
/// * Firm-level events (`listing.stage_reached`, no bank): the banks the firm's consent covers.
/// * `webhook.ping` is never fanned out (it goes to one endpoint on request).
pub fn scope_of(
    kind: EventType,
    firm_id: Option<FirmId>,
    bank_id: Option<BankId>,
    reason: Option<MatchReason>,
) -> Scope {
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
        EventType::MatchWithdrawn if reason.is_some_and(MatchReason::is_loss_of_consent) => match bank_id {
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

/// Why a match event was written, if its data says.
pub fn reason_of(data: &serde_json::Value) -> Option<MatchReason> {
    data.get("reason").and_then(|v| v.as_str()).and_then(MatchReason::parse)
}

/// Whether a subscriber in `scope` receives an event naming `product`, given the banks each
/// firm's consent covers now (`None` in a list: every bank).
fn reaches(
    s: &Subscriber,
    scope: Scope,
    product: Option<Uuid>,
    coverage: &HashMap<FirmId, Vec<Option<BankId>>>,
) -> bool {
    let covered =
        |firm: FirmId| coverage.get(&firm).is_some_and(|banks| banks.iter().any(|b| b.is_none_or(|b| b == s.bank_id)));
    let in_scope = match scope {
        Scope::Nobody => false,
        Scope::AllBanks => true,
        Scope::Bank { bank_id, consent_of } => bank_id == s.bank_id && consent_of.is_none_or(covered),
        Scope::CoveringBanks { firm_id } => covered(firm_id),
    };
    let product_ok = match (&s.product_ids, product) {
        (Some(list), Some(p)) => list.contains(&p),
        _ => true,
    };
    in_scope && product_ok
}

/// Writes the signed messages and one delivery per subscribed endpoint in scope for each event,
/// in the caller's transaction, with a fixed number of statements however many events there
/// are. Facts banks cannot subscribe to are not fanned out (by [`EventKind::webhook`]).
/// Returns how many deliveries were queued (disabled endpoints get a `failed`, recoverable one
/// that is not counted).
///
/// [`EventKind::webhook`]: crate::domain::events::EventKind::webhook
pub async fn fan_out(conn: &mut Conn, events: &[Event], now: DateTime<Utc>) -> AppResult<usize> {
    let candidates: Vec<(&Event, EventType, Scope)> = events
        .iter()
        .filter_map(|e| {
            let kind = e.kind.webhook()?;
            let scope = scope_of(kind, e.firm_id, e.bank_id, reason_of(&e.data));
            (scope != Scope::Nobody).then_some((e, kind, scope))
        })
        .collect();
    if candidates.is_empty() {
        return Ok(0);
    }
    let types: Vec<EventType> = candidates.iter().map(|(_, t, _)| *t).collect::<BTreeSet<_>>().into_iter().collect();
    let mut by_type: HashMap<EventType, Vec<Subscriber>> = HashMap::new();
    for s in store::subscribers(conn, &types).await? {
        by_type.entry(s.event_type).or_default().push(s);
    }
    if by_type.is_empty() {
        return Ok(0);
    }
    let gated_firms: Vec<FirmId> = candidates
        .iter()
        .filter(|(_, t, scope)| needs_consent(*scope) && by_type.contains_key(t))
        .filter_map(|(e, _, _)| e.firm_id)
        .collect();
    let coverage = store::consent_coverage(conn, &gated_firms, now).await?;
    let mut messages = Vec::new();
    let mut deliveries = Vec::new();
    for (e, kind, scope) in candidates {
        let Some(subscribers) = by_type.get(&kind) else { continue };
        let product = product_of(&e.data);
        let targets: Vec<&Subscriber> = subscribers.iter().filter(|s| reaches(s, scope, product, &coverage)).collect();
        if targets.is_empty() {
            continue;
        }
        let envelope =
            EventEnvelope::new(webhook_id(e.id), kind, e.occurred_at, e.firm_seq.unwrap_or(0), e.data.clone());
        let bytes = envelope
            .to_bytes()
            .map_err(|err| AppError::Internal(anyhow::anyhow!("event {} cannot be sent as a webhook: {err}", e.id)))?;
        let body = String::from_utf8(bytes).map_err(|err| AppError::Internal(err.into()))?;
        messages.push(NewMessage {
            event_id: e.id,
            event_type: kind,
            firm_id: e.firm_id,
            consent_required: needs_consent(scope),
            body,
        });
        deliveries.extend(targets.iter().map(|s| (e.id, s.endpoint_id, s.enabled)));
    }
    store::insert_messages(conn, &messages, now).await?;
    store::insert_deliveries_many(conn, &deliveries, "event", now).await?;
    Ok(deliveries.iter().filter(|(_, _, enabled)| *enabled).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_rules() {
        let (fid, bid) = (FirmId::new(), BankId::new());
        let (f, b) = (Some(fid), Some(bid));
        use EventType as T;
        let cases: &[(T, Option<FirmId>, Option<BankId>, Scope)] = &[
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
            assert_eq!(scope_of(*kind, *firm, *bank, None), *want, "{kind} firm={firm:?} bank={bank:?}");
        }
        assert!(needs_consent(scope_of(T::MatchCreated, f, b, None)));
        assert!(needs_consent(scope_of(T::ListingStageReached, f, None, None)));
        assert!(!needs_consent(scope_of(T::ConsentRevoked, f, b, None)));
        assert!(!needs_consent(scope_of(T::ConsentRevoked, f, None, None)));
        for (reason, gated) in [
            (MatchReason::Eligibility, true),
            (MatchReason::ConsentGranted, true),
            (MatchReason::ConsentRevoked, false),
            (MatchReason::ConsentExpired, false),
        ] {
            assert_eq!(needs_consent(scope_of(T::MatchWithdrawn, f, b, Some(reason))), gated, "{reason:?}");
        }
        assert!(needs_consent(scope_of(T::MatchCreated, f, b, Some(MatchReason::ConsentRevoked))));
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
