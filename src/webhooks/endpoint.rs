//! Webhook endpoints as banks see them, and the validation of what they submit. Pure: the URL is
//! judged by the SSRF policy without DNS (names are resolved, and judged again, on every attempt).

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::BankId;

use super::payload::EventType;
use super::ssrf::{SsrfPolicy, SsrfRefusal, parse_and_check};
use crate::domain::validate::{Errors, FieldError, nullable};
pub use crate::domain::webhook::{DisabledReason, Endpoint, EndpointFields, SubscribableEventType, subscribable};

pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_PRODUCT_FILTER: usize = 200;
/// Deliveries per second to one endpoint, unless the bank chooses otherwise.
pub const DEFAULT_RATE_LIMIT: u32 = 100;
pub const MAX_RATE_LIMIT: u32 = 5_000;
/// Requests in flight to one endpoint at once, unless the bank chooses otherwise.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 20;
pub const MAX_CONCURRENCY: u32 = 200;

/// Body of `POST /v1/webhook-endpoints` and `PATCH /v1/webhook-endpoints/{id}`. On PATCH absent
/// fields keep their value; `product_ids: null` removes the filter.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointInput {
    /// `https://…` (plain `http` only where the operator allows it). Required on create.
    pub url: Option<String>,
    pub description: Option<String>,
    /// Event types to receive, e.g. `["match.created", "consent.revoked"]`. Required on create.
    #[schema(value_type = Option<Vec<SubscribableEventType>>, min_items = 1)]
    pub event_types: Option<Vec<String>>,
    #[serde(deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<Uuid>>)]
    pub product_ids: Option<Option<Vec<String>>>,
    /// Default 100, at most 5000.
    #[schema(minimum = 1, maximum = 5000)]
    pub rate_limit_per_second: Option<i64>,
    /// Default 20, at most 200.
    #[schema(minimum = 1, maximum = 200)]
    pub max_concurrency: Option<i64>,
    /// Admin keys only: the bank the endpoint belongs to. Bank keys create for their own bank.
    #[schema(value_type = Option<Uuid>)]
    pub bank_id: Option<BankId>,
}

/// Maps a refusal of the SSRF guard to the `url` field's error.
pub fn url_error(refusal: &SsrfRefusal) -> FieldError {
    let code = match refusal {
        SsrfRefusal::InvalidUrl(_) | SsrfRefusal::MissingHost => "invalid",
        SsrfRefusal::Scheme { .. } => "scheme_not_allowed",
        SsrfRefusal::UserInfo => "credentials_not_allowed",
        SsrfRefusal::Address { .. } => "address_not_allowed",
    };
    let message = refusal.to_string();
    let message = message.strip_prefix("refused: ").unwrap_or(&message).to_owned();
    FieldError::new("url", code, message)
}

impl EndpointInput {
    /// Validates onto `current` (PATCH) or from scratch (`None`: create), reporting every field.
    pub fn validate(
        &self,
        current: Option<&EndpointFields>,
        policy: &SsrfPolicy,
    ) -> Result<EndpointFields, Vec<FieldError>> {
        let mut e = Errors::default();
        let url = match (&self.url, current) {
            (Some(u), _) => {
                let u = u.trim();
                if u.chars().count() > MAX_URL_CHARS {
                    e.add("url", "too_long", format!("must be at most {MAX_URL_CHARS} characters"));
                    None
                } else {
                    match parse_and_check(u, policy) {
                        Ok(parsed) => Some(parsed.to_string()),
                        Err(refusal) => {
                            e.list.push(url_error(&refusal));
                            None
                        }
                    }
                }
            }
            (None, Some(c)) => Some(c.url.clone()),
            (None, None) => e.required("url", None::<String>),
        };
        let description = match (&self.description, current) {
            (Some(d), _) => {
                let d = d.trim();
                if d.chars().count() > MAX_DESCRIPTION_CHARS {
                    e.add("description", "too_long", format!("must be at most {MAX_DESCRIPTION_CHARS} characters"));
                }
                d.to_owned()
            }
            (None, Some(c)) => c.description.clone(),
            (None, None) => String::new(),
        };
        let event_types = match (&self.event_types, current) {
            (Some(list), _) => validate_event_types(&mut e, list),
            (None, Some(c)) => Some(c.event_types.clone()),
            (None, None) => e.required("event_types", None::<Vec<EventType>>),
        };
        let product_ids = match (&self.product_ids, current) {
            (Some(Some(list)), _) => validate_products(&mut e, list).map(Some),
            (Some(None), _) => Some(None),
            (None, Some(c)) => Some(c.product_ids.clone()),
            (None, None) => Some(None),
        };
        let rate = bounded(
            &mut e,
            "rate_limit_per_second",
            self.rate_limit_per_second,
            current.map(|c| c.rate_limit_per_second),
            DEFAULT_RATE_LIMIT,
            MAX_RATE_LIMIT,
        );
        let concurrency = bounded(
            &mut e,
            "max_concurrency",
            self.max_concurrency,
            current.map(|c| c.max_concurrency),
            DEFAULT_MAX_CONCURRENCY,
            MAX_CONCURRENCY,
        );
        match (url, event_types, product_ids, rate, concurrency) {
            (Some(url), Some(event_types), Some(product_ids), Some(rate), Some(concurrency)) if e.is_empty() => {
                Ok(EndpointFields {
                    url,
                    description,
                    event_types,
                    product_ids,
                    rate_limit_per_second: rate,
                    max_concurrency: concurrency,
                })
            }
            _ => Err(e.list),
        }
    }
}

fn bounded(
    e: &mut Errors,
    field: &str,
    given: Option<i64>,
    current: Option<u32>,
    default: u32,
    max: u32,
) -> Option<u32> {
    match given {
        None => Some(current.unwrap_or(default)),
        Some(v) if (1..=i64::from(max)).contains(&v) => u32::try_from(v).ok(),
        Some(_) => {
            e.add(field, "out_of_range", format!("must be between 1 and {max}"));
            None
        }
    }
}

fn validate_event_types(e: &mut Errors, list: &[String]) -> Option<Vec<EventType>> {
    if list.is_empty() {
        e.add("event_types", "required", "subscribe to at least one event type");
        return None;
    }
    let allowed: Vec<&str> = subscribable().map(|t| t.as_str()).collect();
    let mut out: Vec<EventType> = Vec::new();
    let mut ok = true;
    for (i, name) in list.iter().enumerate() {
        match name.trim().parse::<EventType>() {
            Ok(t) if t != EventType::WebhookPing => {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
            _ => {
                ok = false;
                e.add(
                    &format!("event_types[{i}]"),
                    "unknown_value",
                    format!("{name:?} is not an event type one can subscribe to; use: {}", allowed.join(", ")),
                );
            }
        }
    }
    out.sort();
    ok.then_some(out)
}

fn validate_products(e: &mut Errors, list: &[String]) -> Option<Vec<Uuid>> {
    if list.is_empty() {
        e.add("product_ids", "required", "give at least one product id, or null for every product");
        return None;
    }
    if list.len() > MAX_PRODUCT_FILTER {
        e.add("product_ids", "too_long", format!("at most {MAX_PRODUCT_FILTER} products"));
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, s) in list.iter().enumerate() {
        match Uuid::parse_str(s.trim()) {
            Ok(id) => {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            Err(_) => {
                ok = false;
                e.add(&format!("product_ids[{i}]"), "invalid", format!("{s:?} is not a product id (UUID)"));
            }
        }
    }
    out.sort();
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> SsrfPolicy {
        SsrfPolicy { allow_networks: vec!["127.0.0.1/32".parse().expect("cidr")], allow_http: true }
    }

    fn fields(errs: Result<EndpointFields, Vec<FieldError>>) -> Vec<(String, String)> {
        errs.expect_err("invalid").into_iter().map(|f| (f.field, f.code)).collect()
    }

    #[test]
    fn create_requires_url_and_event_types_and_reports_all_fields() {
        let input = EndpointInput {
            rate_limit_per_second: Some(0),
            max_concurrency: Some(10_000),
            product_ids: Some(Some(vec!["nope".into()])),
            ..EndpointInput::default()
        };
        assert_eq!(
            fields(input.validate(None, &local())),
            [
                ("url".to_owned(), "required".to_owned()),
                ("event_types".into(), "required".into()),
                ("product_ids[0]".into(), "invalid".into()),
                ("rate_limit_per_second".into(), "out_of_range".into()),
                ("max_concurrency".into(), "out_of_range".into()),
            ]
        );
    }

    #[test]
    fn urls_the_guard_can_never_deliver_to_are_refused_at_creation() {
        let strict = SsrfPolicy::default();
        let cases: &[(&str, &SsrfPolicy, Option<&str>)] = &[
            ("https://hooks.bank.example/srdi", &strict, None),
            ("http://hooks.bank.example/srdi", &strict, Some("scheme_not_allowed")),
            ("ftp://hooks.bank.example/", &local(), Some("scheme_not_allowed")),
            ("https://user:pw@hooks.bank.example/", &strict, Some("credentials_not_allowed")),
            ("https://10.1.2.3/hook", &strict, Some("address_not_allowed")),
            ("https://[::1]/hook", &strict, Some("address_not_allowed")),
            ("http://127.0.0.2:8080/hook", &local(), Some("address_not_allowed")),
            ("http://[::1]:8080/hook", &local(), Some("address_not_allowed")),
            ("http://127.0.0.1:8080/hook", &local(), None),
            // Names are judged on every attempt, by what they resolve to then.
            ("https://localhost/hook", &strict, None),
            ("not a url", &strict, Some("invalid")),
        ];
        for (url, policy, want) in cases {
            let input = EndpointInput {
                url: Some((*url).into()),
                event_types: Some(vec!["match.created".into()]),
                ..EndpointInput::default()
            };
            let got = input.validate(None, policy);
            match want {
                None => assert!(got.is_ok(), "{url}: {got:?}"),
                Some(code) => assert_eq!(fields(got), [("url".to_owned(), (*code).to_owned())], "{url}"),
            }
        }
    }

    #[test]
    fn event_types_are_checked_deduplicated_and_sorted() {
        let input = EndpointInput {
            url: Some("https://h.example/".into()),
            event_types: Some(vec![
                "consent.revoked".into(),
                "match.created".into(),
                "consent.revoked".into(),
                "webhook.ping".into(),
                "firm.created".into(),
            ]),
            ..EndpointInput::default()
        };
        assert_eq!(
            fields(input.validate(None, &local())),
            [
                ("event_types[3]".to_owned(), "unknown_value".to_owned()),
                ("event_types[4]".into(), "unknown_value".into())
            ]
        );
        let input = EndpointInput {
            event_types: Some(vec!["consent.revoked".into(), "match.created".into(), "consent.revoked".into()]),
            ..input
        };
        let ok = input.validate(None, &local()).expect("valid");
        assert_eq!(ok.event_types, [EventType::MatchCreated, EventType::ConsentRevoked]);
        assert_eq!(ok.rate_limit_per_second, DEFAULT_RATE_LIMIT);
        assert_eq!(ok.max_concurrency, DEFAULT_MAX_CONCURRENCY);
        assert_eq!(ok.product_ids, None);
    }

    #[test]
    fn patch_applies_onto_the_current_definition() {
        let p = Uuid::now_v7();
        let current = EndpointFields {
            url: "https://h.example/".into(),
            description: "主接收地址".into(),
            event_types: vec![EventType::MatchCreated],
            product_ids: Some(vec![p]),
            rate_limit_per_second: 7,
            max_concurrency: 3,
        };
        let patch: EndpointInput =
            serde_json::from_str(r#"{"description": "备用", "max_concurrency": 5}"#).expect("json");
        let got = patch.validate(Some(&current), &local()).expect("valid");
        assert_eq!(got, EndpointFields { description: "备用".into(), max_concurrency: 5, ..current.clone() });
        let clear: EndpointInput = serde_json::from_str(r#"{"product_ids": null}"#).expect("json");
        assert_eq!(clear.validate(Some(&current), &local()).expect("valid").product_ids, None);
        let empty: EndpointInput = serde_json::from_str(r#"{"product_ids": [], "event_types": []}"#).expect("json");
        assert_eq!(
            fields(empty.validate(Some(&current), &local())),
            [("event_types".to_owned(), "required".to_owned()), ("product_ids".into(), "required".into())]
        );
        assert!(serde_json::from_str::<EndpointInput>(r#"{"secret": "x"}"#).is_err(), "unknown fields refused");
    }
}
