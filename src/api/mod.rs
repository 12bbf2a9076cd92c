//! The HTTP API: state, routes, and the helpers every handler shares.

pub mod applications;
pub mod auth;
pub mod banks;
pub mod consents;
pub mod docs;
pub mod financing;
pub mod firm_inputs;
pub mod firms;
pub mod funds;
pub mod health;
pub mod import;
pub mod investments;
pub mod keys;
pub mod listing;
pub mod matches;
pub mod observe;
pub use crate::service::paging as pagination;
pub use crate::service::paging::query_vocab;
pub mod pool;
pub mod problem;
pub mod products;
pub mod roadshows;
pub mod webhooks;

pub use crate::web::{AppState, admission, csv_response, query};

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::access::Principal;
use crate::error::{AppError, AppResult};
use crate::service::idempotency::{self, Claim};

/// Registers every route. Each path is a resource with explicit methods, so a wrong method on a
/// known path is 405 rather than 404.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let json = web::JsonConfig::default().limit(2 * 1024 * 1024).error_handler(problem::json_error);
    cfg.app_data(json)
        .app_data(web::PathConfig::default().error_handler(problem::path_error))
        .service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(resource("/openapi.json").route(web::get().to(docs::openapi_json)))
        .service(
            resource("/v1/firms").route(web::get().to(firms::list_firms)).route(web::post().to(firms::create_firm)),
        )
        .service(resource("/v1/api-keys/{id}").route(web::delete().to(keys::revoke_key)))
        .service(resource("/v1/firms/import").route(web::post().to(import::import_firms)))
        .service(
            resource("/v1/firms/{id}").route(web::get().to(firms::get_firm)).route(web::patch().to(firms::patch_firm)),
        )
        .service(resource("/v1/firms/{id}/financials").route(web::get().to(firms::list_financials)))
        .service(resource("/v1/firms/{id}/financials/{year}").route(web::put().to(firms::put_financials)))
        .service(resource("/v1/firms/{id}/readiness").route(web::get().to(listing::readiness)))
        .service(resource("/v1/firms/{id}/tier-check").route(web::get().to(listing::tier_check)))
        .service(
            resource("/v1/firms/{id}/readiness-inputs")
                .route(web::get().to(firm_inputs::get_inputs))
                .route(web::patch().to(firm_inputs::patch_inputs)),
        )
        .service(
            resource("/v1/firms/{id}/attestations")
                .route(web::get().to(firm_inputs::list_attestations))
                .route(web::post().to(firm_inputs::attest)),
        )
        .service(resource("/v1/firms/{id}/tier-inputs/{year}").route(web::put().to(firm_inputs::put_tier_inputs)))
        .service(resource("/v1/firms/{id}/listing-events").route(web::post().to(listing::record_event)))
        .service(resource("/v1/firms/{id}/listing-progress").route(web::get().to(listing::progress)))
        .service(
            resource("/v1/listing-rules")
                .route(web::get().to(listing::list_rules))
                .route(web::put().to(listing::put_rules)),
        )
        .service(resource("/v1/stats/programme").route(web::get().to(listing::programme_stats)))
        .service(resource("/v1/reserve-pool").route(web::get().to(pool::list_pool)).route(web::post().to(pool::admit)))
        .service(
            resource("/v1/reserve-pool/{firm_id}")
                .route(web::get().to(pool::get_entry))
                .route(web::delete().to(pool::remove)),
        );
    webhook_routes(cfg);
    roadshow_routes(cfg);
    financing_routes(cfg);
}

fn webhook_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v1/webhook-endpoints")
            .route(web::get().to(webhooks::list_endpoints))
            .route(web::post().to(webhooks::create_endpoint)),
    )
    .service(
        resource("/v1/webhook-endpoints/{id}")
            .route(web::get().to(webhooks::get_endpoint))
            .route(web::patch().to(webhooks::patch_endpoint))
            .route(web::delete().to(webhooks::delete_endpoint)),
    )
    .service(resource("/v1/webhook-endpoints/{id}/enable").route(web::post().to(webhooks::enable_endpoint)))
    .service(resource("/v1/webhook-endpoints/{id}/disable").route(web::post().to(webhooks::disable_endpoint)))
    .service(resource("/v1/webhook-endpoints/{id}/rotate-secret").route(web::post().to(webhooks::rotate_secret)))
    .service(resource("/v1/webhook-endpoints/{id}/test").route(web::post().to(webhooks::test_endpoint)))
    .service(resource("/v1/webhook-endpoints/{id}/recover").route(web::post().to(webhooks::recover)))
    .service(resource("/v1/webhook-endpoints/{id}/attempts").route(web::get().to(webhooks::list_attempts)))
    .service(resource("/v1/webhook-events/{id}/resend").route(web::post().to(webhooks::resend_event)));
}

/// Funds, roadshows, registrations, presenters, investments.
fn roadshow_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v1/funds").route(web::get().to(funds::list_funds)).route(web::post().to(funds::create_fund)),
    )
    .service(resource("/v1/funds/{id}").route(web::get().to(funds::get_fund)))
    .service(resource("/v1/funds/{id}/keys").route(web::post().to(funds::issue_key)))
    .service(
        resource("/v1/roadshows")
            .route(web::get().to(roadshows::list_roadshows))
            .route(web::post().to(roadshows::create_roadshow)),
    )
    .service(
        resource("/v1/roadshows/{id}")
            .route(web::get().to(roadshows::get_roadshow))
            .route(web::patch().to(roadshows::patch_roadshow)),
    )
    .service(resource("/v1/roadshows/{id}/status").route(web::post().to(roadshows::set_status)))
    .service(resource("/v1/roadshows/{id}/calendar.ics").route(web::get().to(roadshows::calendar)))
    .service(resource("/v1/roadshows/{id}/recommended-firms").route(web::get().to(roadshows::recommended_firms)))
    .service(resource("/v1/roadshows/{id}/outcome").route(web::get().to(roadshows::outcome)))
    .service(resource("/v1/roadshows/{id}/presenters").route(web::get().to(roadshows::list_presenters)))
    .service(
        resource("/v1/roadshows/{id}/presenters/{firm_id}")
            .route(web::put().to(roadshows::put_presenter))
            .route(web::delete().to(roadshows::delete_presenter)),
    )
    .service(
        resource("/v1/roadshows/{id}/registrations")
            .route(web::get().to(roadshows::list_registrations))
            .route(web::post().to(roadshows::register)),
    )
    .service(
        resource("/v1/roadshows/{id}/registrations/{rid}")
            .route(web::get().to(roadshows::get_registration))
            .route(web::delete().to(roadshows::cancel_registration)),
    )
    .service(resource("/v1/roadshows/{id}/registrations/{rid}/decision").route(web::post().to(roadshows::decide)))
    .service(resource("/v1/roadshows/{id}/check-in").route(web::post().to(roadshows::check_in)))
    .service(resource("/v1/firms/{id}/roadshow-slots").route(web::get().to(roadshows::firm_slots)))
    .service(
        resource("/v1/firms/{id}/investor-visibility")
            .route(web::get().to(roadshows::get_visibility))
            .route(web::put().to(roadshows::put_visibility)),
    )
    .service(
        resource("/v1/investments")
            .route(web::get().to(investments::list_investments))
            .route(web::post().to(investments::create_investment)),
    )
    .service(
        resource("/v1/investments/{id}")
            .route(web::get().to(investments::get_investment))
            .route(web::patch().to(investments::patch_investment)),
    );
}

/// Banks, LPR, products, consents, matches, applications, financing status.
fn financing_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v1/banks").route(web::get().to(banks::list_banks)).route(web::post().to(banks::create_bank)),
    )
    .service(resource("/v1/banks/{id}").route(web::get().to(banks::get_bank)))
    .service(resource("/v1/banks/{id}/keys").route(web::post().to(banks::issue_key)))
    .service(resource("/v1/lpr").route(web::get().to(banks::list_lpr)))
    .service(resource("/v1/lpr/{effective_on}").route(web::put().to(banks::put_lpr)))
    .service(
        resource("/v1/products")
            .route(web::get().to(products::list_products))
            .route(web::post().to(products::create_product)),
    )
    .service(
        resource("/v1/products/{id}")
            .route(web::get().to(products::get_product))
            .route(web::patch().to(products::patch_product))
            .route(web::delete().to(products::delete_product)),
    )
    .service(
        resource("/v1/firms/{id}/consents").route(web::get().to(consents::list)).route(web::post().to(consents::grant)),
    )
    .service(resource("/v1/firms/{id}/consents/{consent_id}").route(web::delete().to(consents::revoke)))
    .service(resource("/v1/firms/{id}/matches").route(web::get().to(matches::get_firm_matches)))
    .service(resource("/v1/firms/{id}/financing-status").route(web::get().to(financing::financing_status)))
    .service(resource("/v1/firms/{id}/lead-bank").route(web::put().to(financing::put_lead_bank)))
    .service(resource("/v1/firms/{id}/tutoring").route(web::put().to(financing::put_tutoring)))
    .service(resource("/v1/matches").route(web::get().to(matches::list_matches)))
    .service(resource("/v1/matches/{firm_id}/{product_id}").route(web::get().to(matches::get_match)))
    .service(resource("/v1/admin/rematch").route(web::post().to(financing::rematch)))
    .service(
        resource("/v1/applications")
            .route(web::get().to(applications::list))
            .route(web::post().to(applications::apply)),
    )
    .service(resource("/v1/applications/{id}").route(web::get().to(applications::get)))
    .service(resource("/v1/applications/{id}/transitions").route(web::post().to(applications::transition)));
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(problem::method_not_allowed))
}

/// Whether the client asked for CSV (`Accept: text/csv`).
pub fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.split(',').any(|p| p.trim().starts_with("text/csv")))
}

/// The stored answer of a request already made with this `Idempotency-Key`, marked as a replay.
pub(crate) fn replayed(status: u16, body: String) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let ctype = if status.is_success() { "application/json" } else { "application/problem+json" };
    HttpResponse::build(status).content_type(ctype).insert_header(("Idempotent-Replayed", "true")).body(body)
}

/// Runs a creating request at most once per `Idempotency-Key` and caller: a repeat with the same
/// body replays the first answer; a repeat with another body is 409. Without the header it runs.
pub async fn idempotent<T, F, Fut>(
    state: &AppState,
    req: &HttpRequest,
    caller: &Principal,
    body: &[u8],
    work: F,
) -> AppResult<HttpResponse>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = AppResult<(StatusCode, T)>>,
{
    let Some(key) = idempotency_key(req)? else {
        let (status, value) = work().await?;
        return Ok(HttpResponse::build(status).json(value));
    };
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b"\n");
    hasher.update(req.uri().to_string());
    hasher.update(b"\n");
    hasher.update(body);
    let fingerprint = hex::encode(hasher.finalize());
    let now = state.clock.now();
    if let Claim::Replay { status, body } =
        idempotency::claim(&state.db, caller.key_id, &key, &fingerprint, now).await?
    {
        return Ok(replayed(status, body));
    }
    let outcome = work().await;
    match outcome {
        Ok((status, value)) => {
            let body = serde_json::to_string(&value).map_err(|e| AppError::Internal(e.into()))?;
            idempotency::complete(&state.db, caller.key_id, &key, status.as_u16(), &body).await?;
            Ok(HttpResponse::build(status).content_type("application/json").body(body))
        }
        // An overloaded answer says "not now", not "no": the claim is released so a retry runs.
        Err(e)
            if actix_web::ResponseError::status_code(&e).is_client_error()
                && !matches!(e, AppError::Overloaded { .. }) =>
        {
            let body = serde_json::to_string(&e.to_problem()).map_err(|e| AppError::Internal(e.into()))?;
            idempotency::complete(
                &state.db,
                caller.key_id,
                &key,
                actix_web::ResponseError::status_code(&e).as_u16(),
                &body,
            )
            .await?;
            Err(e)
        }
        Err(e) => {
            idempotency::release(&state.db, caller.key_id, &key).await?;
            Err(e)
        }
    }
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters, taken as sent (the document
/// states the same pattern, so a key with a space is refused rather than trimmed).
pub fn idempotency_key(req: &HttpRequest) -> AppResult<Option<String>> {
    match req.headers().get("Idempotency-Key") {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(k.to_owned())),
            _ => Err(AppError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )),
        },
    }
}

/// Parses a JSON body read as bytes (creating handlers keep the bytes for idempotency).
/// A body the document marks optional: none at all, or JSON `null`, means the defaults.
pub fn parse_optional_json<T: serde::de::DeserializeOwned + Default>(req: &HttpRequest, body: &[u8]) -> AppResult<T> {
    let text = body.trim_ascii();
    if text.is_empty() || text == b"null" {
        return Ok(T::default());
    }
    parse_json::<T>(req, body)
}

/// Parses a JSON body, which is an object: every body the service takes is one, and serde would
/// otherwise also read a struct from an array of its fields in order (`[null, null]`).
pub fn parse_json<T: serde::de::DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> AppResult<T> {
    if let Some(ct) = req.headers().get(actix_web::http::header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        if !ct.starts_with("application/json") && !ct.contains("+json") {
            return Err(AppError::UnsupportedMediaType("the body must be application/json".into()));
        }
    }
    reject_nul(body)?;
    if body.trim_ascii_start().first() != Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        return Err(AppError::Validation(vec![crate::domain::validate::FieldError::new(
            "body",
            "invalid",
            "the body must be a JSON object",
        )]));
    }
    let first = serde_json::from_slice(body);
    if let Err(e) = &first
        && e.classify() == serde_json::error::Category::Data
        && let Some(read) = read_with_whole_numbers(body)
    {
        return Ok(read);
    }
    first.map_err(|e| match e.classify() {
        serde_json::error::Category::Data => AppError::Validation(vec![crate::domain::validate::FieldError::new(
            problem::serde_field(&e),
            "invalid",
            e.to_string(),
        )]),
        // Well-formed JSON of the wrong shape (e.g. two members where one of several is
        // expected) is a 422 like any other field error, not an unreadable body.
        _ if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() => {
            AppError::Validation(vec![crate::domain::validate::FieldError::new(
                problem::serde_field(&e),
                "invalid",
                e.to_string(),
            )])
        }
        _ => AppError::bad_request("invalid_json", format!("the body is not valid JSON: {e}")),
    })
}

/// `730.0` is the same JSON number as `730` (and an integer to JSON Schema), but serde reads only
/// the latter into an integer field: when a body fails to read, it is read once more with every
/// whole number written as an integer. Only failing bodies pay for the second reading.
fn read_with_whole_numbers<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    fn whole(v: &mut serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    #[allow(clippy::cast_possible_truncation)]
                    let i = f as i64;
                    *v = serde_json::Value::from(i);
                    true
                }
                _ => false,
            },
            // Every member is rewritten, so no short-circuiting `any`.
            serde_json::Value::Array(items) => items.iter_mut().map(whole).filter(|changed| *changed).count() > 0,
            serde_json::Value::Object(map) => map.values_mut().map(whole).filter(|changed| *changed).count() > 0,
            _ => false,
        }
    }
    let mut doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    if !whole(&mut doc) {
        return None;
    }
    serde_json::from_value(doc).ok()
}

/// Every JSON body passes here: a string carrying U+0000 is a 422 naming its field. Only bodies
/// whose text holds the escape are parsed a second time, to find the paths.
fn reject_nul(body: &[u8]) -> AppResult<()> {
    let escaped = body.windows(6).any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].iter().all(|&b| b == b'0'));
    if !escaped {
        return Ok(());
    }
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(body) else { return Ok(()) };
    let errors: Vec<_> = crate::domain::validate::nul_paths(&doc)
        .into_iter()
        .map(|field| {
            crate::domain::validate::FieldError::new(
                field,
                crate::domain::validate::NUL_CODE,
                crate::domain::validate::NUL_MESSAGE,
            )
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}
