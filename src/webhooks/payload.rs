//! The event envelope banks receive, the event-type vocabulary, and deterministic event ids.
//!
//! An envelope is serialised once, when the event is written to the outbox; those stored bytes
//! are what every attempt signs and sends. Re-serialising could reorder or reformat fields and
//! break signatures the bank has already checked on an earlier attempt.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Timelike as _, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

/// Payloads are kept thin (ids and changed fields; banks fetch details through the API). The
/// cap catches a bug that would otherwise ship megabytes to every bank on every retry.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

pub use crate::domain::events::{EventType, UnknownEventType};

const EVENT_ID_PREFIX: &str = "evt_";
/// Changing this changes every derived id, which would let facts already announced be announced
/// again: never change it.
const EVENT_ID_DOMAIN: &[u8] = b"srdi-capital/webhook-event/v1";

/// `evt_` + 32 lowercase hex digits of a UUID. Also the `webhook-id` header, constant across
/// retries and manual resends, which receivers use to drop duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Uuid);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event id {0:?} is not \"evt_\" followed by 32 lowercase hex digits")]
pub struct InvalidEventId(pub String);

impl EventId {
    /// The id of a business fact, the same every time the fact is derived, so a UNIQUE
    /// constraint on the id turns "announce it again" into a no-op. `key_parts` must name the
    /// fact completely, including any version or generation that makes a repeat a new fact
    /// (e.g. `[firm_id, product_id, match_version]` for `match.updated`).
    ///
    /// A name-based UUIDv8 over SHA-256 (RFC 9562 §5.8 and appendix B.2) rather than v5, which
    /// would need SHA-1. Parts are length-prefixed so that `["a.b", "c"]` and `["a", "b.c"]`
    /// cannot collide.
    pub fn for_fact(kind: EventType, key_parts: &[&str]) -> Self {
        let mut h = Sha256::new();
        h.update(EVENT_ID_DOMAIN);
        for part in std::iter::once(kind.as_str()).chain(key_parts.iter().copied()) {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        let digest = h.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        EventId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }

    /// For events that are not business facts (a ping asked for twice is two pings). UUIDv7
    /// so ids sort by creation time.
    pub fn random() -> Self {
        EventId(Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<Self, InvalidEventId> {
        let invalid = || InvalidEventId(text.to_owned());
        let hex = text.strip_prefix(EVENT_ID_PREFIX).ok_or_else(invalid)?;
        // One spelling per id, or the same event could pass a uniqueness check twice.
        if hex.len() != 32 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid());
        }
        Uuid::try_parse(hex).map(EventId).map_err(|_| invalid())
    }

    pub fn uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{EVENT_ID_PREFIX}{}", self.0.simple())
    }
}

impl FromStr for EventId {
    type Err = InvalidEventId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventId::parse(s)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        EventId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The JSON body of every webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventEnvelope {
    /// Same value as the `webhook-id` header.
    #[schema(value_type = String, example = "evt_0f7c1e2d3b4a49c8a1b2c3d4e5f60718")]
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the business change happened (RFC 3339, UTC, microseconds).
    #[serde(serialize_with = "rfc3339_utc_micros")]
    pub occurred_at: DateTime<Utc>,
    /// Increases with every firm event (consents, applications, listing stages), so a receiver
    /// can discard an update that arrives after a newer one (delivery order is not guaranteed).
    /// 0 for match events, which `data.seq` orders per firm and product, and for events not
    /// about a firm (`webhook.ping`, `webhook.endpoint_disabled`).
    pub firm_seq: i64,
    /// Event-specific object.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

fn rfc3339_utc_micros<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("event data must be a JSON object")]
    DataNotObject,
    #[error("event payload is {0} bytes; the limit is {MAX_PAYLOAD_BYTES}")]
    TooLarge(usize),
    #[error("event payload is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl EventEnvelope {
    /// `occurred_at` is truncated to microseconds, the precision the database keeps, so the
    /// stored column and the payload never disagree.
    pub fn new(
        id: EventId,
        event_type: EventType,
        occurred_at: DateTime<Utc>,
        firm_seq: i64,
        data: serde_json::Value,
    ) -> Self {
        let micros = occurred_at.timestamp_subsec_micros();
        let occurred_at = occurred_at.with_nanosecond(micros * 1000).unwrap_or(occurred_at);
        EventEnvelope { id, event_type, occurred_at, firm_seq, data }
    }

    pub fn ping(now: DateTime<Utc>) -> Self {
        Self::new(
            EventId::random(),
            EventType::WebhookPing,
            now,
            0,
            serde_json::json!({ "message": "test delivery from srdi-capital" }),
        )
    }

    /// The bytes to store in the outbox and then sign and send, unchanged, on every attempt.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PayloadError> {
        if !self.data.is_object() {
            return Err(PayloadError::DataNotObject);
        }
        let bytes = serde_json::to_vec(self)?;
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PayloadError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn event_type_names_round_trip() {
        let names: HashSet<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), EventType::ALL.len());
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
            let json = serde_json::to_string(&t).expect("json");
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<EventType>(&json).expect("back"), t);
            // Standard Webhooks: dot-separated segments of [a-zA-Z0-9_].
            assert!(
                t.as_str()
                    .split('.')
                    .all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')),
                "{t}"
            );
        }
        assert_eq!("match.deleted".parse::<EventType>(), Err(UnknownEventType("match.deleted".into())));
        assert!("MATCH.CREATED".parse::<EventType>().is_err());
    }

    #[test]
    fn fact_ids_are_deterministic_and_separate_facts() {
        let a = EventId::for_fact(EventType::MatchCreated, &["firm-1", "product-9"]);
        assert_eq!(a, EventId::for_fact(EventType::MatchCreated, &["firm-1", "product-9"]));
        let others = [
            EventId::for_fact(EventType::MatchWithdrawn, &["firm-1", "product-9"]),
            EventId::for_fact(EventType::MatchCreated, &["firm-1", "product-8"]),
            EventId::for_fact(EventType::MatchCreated, &["product-9", "firm-1"]),
            EventId::for_fact(EventType::MatchCreated, &["firm-1product-9"]),
            EventId::for_fact(EventType::MatchCreated, &["firm-1", "product-9", ""]),
            EventId::for_fact(EventType::MatchCreated, &["firm-1"]),
            EventId::for_fact(EventType::MatchCreated, &[]),
        ];
        let mut seen: HashSet<EventId> = HashSet::from([a.clone()]);
        for id in others {
            assert!(seen.insert(id.clone()), "collision: {id}");
        }
        // Boundaries between parts matter.
        assert_ne!(
            EventId::for_fact(EventType::MatchUpdated, &["a.b", "c"]),
            EventId::for_fact(EventType::MatchUpdated, &["a", "b.c"])
        );
        assert_eq!(a.uuid().get_version_num(), 8);
        assert_eq!(a.uuid().get_variant(), uuid::Variant::RFC4122);
    }

    #[test]
    fn fact_id_is_pinned() {
        // A change here re-announces every fact already delivered: it must never happen.
        let id = EventId::for_fact(EventType::MatchCreated, &["firm-1", "product-9"]);
        assert_eq!(id.to_string(), PINNED_MATCH_ID);
    }
    // Computed independently (Python: hashlib + the same framing, version and variant bits).
    const PINNED_MATCH_ID: &str = "evt_138606e81560850a83fcc4d1f080979e";

    #[test]
    fn event_id_text_form() {
        let id = EventId::for_fact(EventType::ConsentGranted, &["f", "b"]);
        let text = id.to_string();
        assert!(text.starts_with("evt_") && text.len() == 36, "{text}");
        assert!(!text.contains('.'), "Standard Webhooks ids must not contain '.'");
        assert_eq!(EventId::parse(&text), Ok(id.clone()));
        let upper = format!("evt_{}", text[4..].to_uppercase());
        let cases = [
            "",
            "evt_",
            "evt_xyz",
            &text[4..],
            &upper,
            "evt_0f7c1e2d-3b4a-49c8-a1b2-c3d4e5f60718",
            "msg_0f7c1e2d3b4a49c8a1b2c3d4e5f60718",
            "evt_0f7c1e2d3b4a49c8a1b2c3d4e5f6071",
        ];
        for bad in cases {
            assert!(EventId::parse(bad).is_err(), "{bad:?}");
        }
        let r1 = EventId::random();
        let r2 = EventId::random();
        assert_ne!(r1, r2);
        assert_eq!(r1.uuid().get_version_num(), 7);
        assert_eq!(EventId::parse(&r1.to_string()), Ok(r1));
    }

    fn sample() -> EventEnvelope {
        let at = DateTime::parse_from_rfc3339("2026-03-01T08:30:15.123456789+08:00").expect("date").with_timezone(&Utc);
        EventEnvelope::new(
            EventId::for_fact(EventType::MatchCreated, &["firm-1", "product-9"]),
            EventType::MatchCreated,
            at,
            42,
            serde_json::json!({ "product_id": "product-9", "firm_id": "firm-1", "score": 87 }),
        )
    }

    #[test]
    fn envelope_bytes_are_exact_and_stable() {
        let e = sample();
        let bytes = e.to_bytes().expect("serialises");
        let text = std::str::from_utf8(&bytes).expect("utf-8");
        assert_eq!(
            text,
            format!(
                r#"{{"id":"{}","type":"match.created","occurred_at":"2026-03-01T00:30:15.123456Z","firm_seq":42,"data":{{"firm_id":"firm-1","product_id":"product-9","score":87}}}}"#,
                e.id
            )
        );
        assert_eq!(e.to_bytes().expect("again"), bytes);
        let back = EventEnvelope::from_bytes(&bytes).expect("parses");
        assert_eq!(back, e);
        // Round trip through the bytes reproduces the bytes: a resend from a parsed copy would
        // still match signatures made over the original.
        assert_eq!(back.to_bytes().expect("re-serialises"), bytes);
    }

    #[test]
    fn envelope_limits() {
        let mut e = sample();
        e.data = serde_json::json!([1, 2, 3]);
        assert!(matches!(e.to_bytes(), Err(PayloadError::DataNotObject)));
        e.data = serde_json::json!({ "blob": "x".repeat(MAX_PAYLOAD_BYTES) });
        assert!(matches!(e.to_bytes(), Err(PayloadError::TooLarge(_))));
        assert!(EventEnvelope::from_bytes(b"{\"id\":\"evt_x\"}").is_err());
    }

    #[test]
    fn ping_is_a_ping() {
        let now = Utc::now();
        let p = EventEnvelope::ping(now);
        assert_eq!(p.event_type, EventType::WebhookPing);
        assert_eq!(p.firm_seq, 0);
        let bytes = p.to_bytes().expect("serialises");
        assert!(std::str::from_utf8(&bytes).expect("utf-8").contains("\"type\":\"webhook.ping\""));
        assert_ne!(EventEnvelope::ping(now).id, p.id);
    }

    #[test]
    fn schema_is_derivable() {
        let schema = serde_json::to_value(<EventEnvelope as utoipa::PartialSchema>::schema()).expect("schema json");
        let props = &schema["properties"];
        for field in ["id", "type", "occurred_at", "firm_seq", "data"] {
            assert!(props.get(field).is_some(), "missing {field} in {schema}");
        }
    }
}
