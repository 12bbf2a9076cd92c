//! The vocabulary of the outbox: every kind of business fact the service records
//! ([`EventKind`]), the subset partner banks can subscribe to as webhooks ([`EventType`]), and
//! why a bank's view of a match changed ([`MatchReason`]).
//!
//! [`EventKind::webhook`] is an exhaustive match, so a new kind of fact cannot be added without
//! deciding whether banks hear of it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every fact written to the `events` outbox, spelled as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    FirmCreated,
    FirmUpdated,
    FinancialsUpdated,
    ReservePoolAdmitted,
    ReservePoolUpdated,
    ReservePoolRemoved,
    ProductCreated,
    ProductUpdated,
    ProductWithdrawn,
    InvestmentRecorded,
    InvestmentUpdated,
    RoadshowCreated,
    RoadshowChanged,
    RoadshowStatusChanged,
    RoadshowPresenterScheduled,
    ListingStageReached,
    MatchCreated,
    MatchUpdated,
    MatchWithdrawn,
    ApplicationSubmitted,
    ApplicationStatusChanged,
    ApplicationWithdrawn,
    ConsentGranted,
    ConsentRevoked,
    EndpointDisabled,
}

impl EventKind {
    pub const ALL: [EventKind; 25] = [
        EventKind::FirmCreated,
        EventKind::FirmUpdated,
        EventKind::FinancialsUpdated,
        EventKind::ReservePoolAdmitted,
        EventKind::ReservePoolUpdated,
        EventKind::ReservePoolRemoved,
        EventKind::ProductCreated,
        EventKind::ProductUpdated,
        EventKind::ProductWithdrawn,
        EventKind::InvestmentRecorded,
        EventKind::InvestmentUpdated,
        EventKind::RoadshowCreated,
        EventKind::RoadshowChanged,
        EventKind::RoadshowStatusChanged,
        EventKind::RoadshowPresenterScheduled,
        EventKind::ListingStageReached,
        EventKind::MatchCreated,
        EventKind::MatchUpdated,
        EventKind::MatchWithdrawn,
        EventKind::ApplicationSubmitted,
        EventKind::ApplicationStatusChanged,
        EventKind::ApplicationWithdrawn,
        EventKind::ConsentGranted,
        EventKind::ConsentRevoked,
        EventKind::EndpointDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::FirmCreated => "firm.created",
            EventKind::FirmUpdated => "firm.updated",
            EventKind::FinancialsUpdated => "financials.updated",
            EventKind::ReservePoolAdmitted => "reserve_pool.admitted",
            EventKind::ReservePoolUpdated => "reserve_pool.updated",
            EventKind::ReservePoolRemoved => "reserve_pool.removed",
            EventKind::ProductCreated => "product.created",
            EventKind::ProductUpdated => "product.updated",
            EventKind::ProductWithdrawn => "product.withdrawn",
            EventKind::InvestmentRecorded => "investment.recorded",
            EventKind::InvestmentUpdated => "investment.updated",
            EventKind::RoadshowCreated => "roadshow.created",
            EventKind::RoadshowChanged => "roadshow.changed",
            EventKind::RoadshowStatusChanged => "roadshow.status_changed",
            EventKind::RoadshowPresenterScheduled => "roadshow.presenter_scheduled",
            EventKind::ListingStageReached => "listing.stage_reached",
            EventKind::MatchCreated => "match.created",
            EventKind::MatchUpdated => "match.updated",
            EventKind::MatchWithdrawn => "match.withdrawn",
            EventKind::ApplicationSubmitted => "application.submitted",
            EventKind::ApplicationStatusChanged => "application.status_changed",
            EventKind::ApplicationWithdrawn => "application.withdrawn",
            EventKind::ConsentGranted => "consent.granted",
            EventKind::ConsentRevoked => "consent.revoked",
            EventKind::EndpointDisabled => "webhook.endpoint_disabled",
        }
    }

    /// The webhook type banks receive this fact as, or `None` for the office's own facts
    /// (firm records, the pool, products, roadshows, investments).
    pub fn webhook(self) -> Option<EventType> {
        match self {
            EventKind::FirmCreated
            | EventKind::FirmUpdated
            | EventKind::FinancialsUpdated
            | EventKind::ReservePoolAdmitted
            | EventKind::ReservePoolUpdated
            | EventKind::ReservePoolRemoved
            | EventKind::ProductCreated
            | EventKind::ProductUpdated
            | EventKind::ProductWithdrawn
            | EventKind::InvestmentRecorded
            | EventKind::InvestmentUpdated
            | EventKind::RoadshowCreated
            | EventKind::RoadshowChanged
            | EventKind::RoadshowStatusChanged
            | EventKind::RoadshowPresenterScheduled => None,
            EventKind::ListingStageReached => Some(EventType::ListingStageReached),
            EventKind::MatchCreated => Some(EventType::MatchCreated),
            EventKind::MatchUpdated => Some(EventType::MatchUpdated),
            EventKind::MatchWithdrawn => Some(EventType::MatchWithdrawn),
            EventKind::ApplicationSubmitted => Some(EventType::ApplicationSubmitted),
            EventKind::ApplicationStatusChanged => Some(EventType::ApplicationStatusChanged),
            EventKind::ApplicationWithdrawn => Some(EventType::ApplicationWithdrawn),
            EventKind::ConsentGranted => Some(EventType::ConsentGranted),
            EventKind::ConsentRevoked => Some(EventType::ConsentRevoked),
            EventKind::EndpointDisabled => Some(EventType::EndpointDisabled),
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}

/// Why a bank's view of a match changed, carried as `reason` in `match.*` payloads. A match
/// appears to a bank, or disappears from its view, either because the firm's eligibility for
/// the product changed or because the firm's consent started or stopped covering the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    /// The matching engine re-evaluated the pair (firm facts, the product, or its window changed).
    Eligibility,
    /// A consent now covers the bank: an active match it could not see before.
    ConsentGranted,
    /// The firm revoked the consent that covered the bank.
    ConsentRevoked,
    /// The consent that covered the bank ran out.
    ConsentExpired,
}

impl MatchReason {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchReason::Eligibility => "eligibility",
            MatchReason::ConsentGranted => "consent_granted",
            MatchReason::ConsentRevoked => "consent_revoked",
            MatchReason::ConsentExpired => "consent_expired",
        }
    }

    /// A withdrawal notice that the bank lost sight of a match it could see. It carries ids only
    /// and goes to the bank although the consent no longer covers it: that is its point.
    pub fn is_loss_of_consent(self) -> bool {
        matches!(self, MatchReason::ConsentRevoked | MatchReason::ConsentExpired)
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Eligibility, Self::ConsentGranted, Self::ConsentRevoked, Self::ConsentExpired]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// Dotted names after Standard Webhooks' hierarchical convention, so receivers can route on the
/// prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "match.created")]
    MatchCreated,
    #[serde(rename = "match.updated")]
    MatchUpdated,
    #[serde(rename = "match.withdrawn")]
    MatchWithdrawn,
    #[serde(rename = "application.submitted")]
    ApplicationSubmitted,
    #[serde(rename = "application.status_changed")]
    ApplicationStatusChanged,
    #[serde(rename = "application.withdrawn")]
    ApplicationWithdrawn,
    #[serde(rename = "consent.granted")]
    ConsentGranted,
    #[serde(rename = "consent.revoked")]
    ConsentRevoked,
    #[serde(rename = "listing.stage_reached")]
    ListingStageReached,
    #[serde(rename = "webhook.ping")]
    WebhookPing,
    #[serde(rename = "webhook.endpoint_disabled")]
    EndpointDisabled,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::MatchCreated,
        EventType::MatchUpdated,
        EventType::MatchWithdrawn,
        EventType::ApplicationSubmitted,
        EventType::ApplicationStatusChanged,
        EventType::ApplicationWithdrawn,
        EventType::ConsentGranted,
        EventType::ConsentRevoked,
        EventType::ListingStageReached,
        EventType::WebhookPing,
        EventType::EndpointDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MatchCreated => "match.created",
            EventType::MatchUpdated => "match.updated",
            EventType::MatchWithdrawn => "match.withdrawn",
            EventType::ApplicationSubmitted => "application.submitted",
            EventType::ApplicationStatusChanged => "application.status_changed",
            EventType::ApplicationWithdrawn => "application.withdrawn",
            EventType::ConsentGranted => "consent.granted",
            EventType::ConsentRevoked => "consent.revoked",
            EventType::ListingStageReached => "listing.stage_reached",
            EventType::WebhookPing => "webhook.ping",
            EventType::EndpointDisabled => "webhook.endpoint_disabled",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_map_onto_webhook_types() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(k));
            if let Some(t) = k.webhook() {
                assert_eq!(t.as_str(), k.as_str(), "a fact keeps its name on the wire");
            }
        }
        for t in EventType::ALL.into_iter().filter(|t| *t != EventType::WebhookPing) {
            assert!(EventKind::ALL.iter().any(|k| k.webhook() == Some(t)), "{t} has a producer");
        }
        assert!("nope".parse::<EventKind>().is_err());
    }

    #[test]
    fn reasons() {
        for r in [
            MatchReason::Eligibility,
            MatchReason::ConsentGranted,
            MatchReason::ConsentRevoked,
            MatchReason::ConsentExpired,
        ] {
            assert_eq!(MatchReason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).expect("json"), serde_json::json!(r.as_str()));
        }
        assert!(MatchReason::ConsentExpired.is_loss_of_consent());
        assert!(!MatchReason::ConsentGranted.is_loss_of_consent());
        assert_eq!(MatchReason::parse("x"), None);
    }
}
