//! Webhook endpoints as stored and shown: what the store reads and writes, and what the API
//! answers. Validation of what banks submit lives with the SSRF policy in `webhooks::endpoint`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::events::EventType;
use crate::domain::firm::vocabulary;
use crate::domain::ids::BankId;

vocabulary!(
    /// Why an endpoint receives nothing.
    DisabledReason {
        Manual = "manual" / "手动停用",
        Gone = "gone" / "接收方返回 410 Gone",
        Failing = "failing" / "持续投递失败",
    }
);

/// The event types an endpoint may subscribe to (`webhook.ping` is sent on request only).
pub fn subscribable() -> impl Iterator<Item = EventType> {
    EventType::ALL.into_iter().filter(|t| *t != EventType::WebhookPing)
}

/// How the OpenAPI document spells what `event_types` takes: the [`subscribable`] types, so the
/// contract does not offer `webhook.ping`, which a subscription refuses.
pub struct SubscribableEventType;

impl utoipa::PartialSchema for SubscribableEventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("An event type an endpoint can subscribe to (`webhook.ping` is sent on request only)"))
            .enum_values(Some(subscribable().map(EventType::as_str)))
            .into()
    }
}

impl utoipa::ToSchema for SubscribableEventType {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    #[schema(value_type = Uuid)]
    pub bank_id: BankId,
    pub url: String,
    pub description: String,
    #[schema(value_type = Vec<SubscribableEventType>)]
    pub event_types: Vec<EventType>,
    /// `null`: events about every product; otherwise only these products (events without a
    /// product are not filtered).
    pub product_ids: Option<Vec<Uuid>>,
    pub enabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub rate_limit_per_second: u32,
    pub max_concurrency: u32,
    /// Start of the current unbroken run of failed attempts; `null` when the last attempt worked.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A validated endpoint definition (whole, after a PATCH is applied onto the current one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointFields {
    pub url: String,
    pub description: String,
    pub event_types: Vec<EventType>,
    pub product_ids: Option<Vec<Uuid>>,
    pub rate_limit_per_second: u32,
    pub max_concurrency: u32,
}

impl EndpointFields {
    pub fn of(e: &Endpoint) -> Self {
        EndpointFields {
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.event_types.clone(),
            product_ids: e.product_ids.clone(),
            rate_limit_per_second: e.rate_limit_per_second,
            max_concurrency: e.max_concurrency,
        }
    }
}
