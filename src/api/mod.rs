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

use std::collections::BTreeMap;
use std::future::Future;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::access::Principal;
use crate::error::{AppError, AppResult};
use crate::service::idempotency::{self, Claim};

/// Every operation of the API, each named once: its handler's `#[utoipa::path]` states its method
/// and path, from which both the document (`docs::openapi`) and the routing (`routes`) are made.
macro_rules! api_operations {
    ($($module:ident :: $handler:ident),* $(,)?) => {
        pub(crate) fn operations() -> Vec<Operation> {
            vec![$({
                // The derive finds the handler's generated `utoipa::Path` by the handler's name,
                // which a declarative macro cannot spell; the one-operation document carries it.
                #[derive(utoipa::OpenApi)]
                #[openapi(paths($module::$handler))]
                struct Documented;
                Operation {
                    document: <Documented as utoipa::OpenApi>::openapi(),
                    handle: |route| route.to($module::$handler),
                }
            }),*]
        }
    };
}

api_operations![
    health::healthz,
    health::readyz,
    keys::revoke_key,
    firms::list_firms,
    firms::create_firm,
    firms::get_firm,
    firms::patch_firm,
    firms::list_financials,
    firms::put_financials,
    import::import_firms,
    pool::list_pool,
    pool::admit,
    pool::get_entry,
    pool::remove,
    listing::readiness,
    listing::tier_check,
    listing::record_event,
    listing::progress,
    firm_inputs::get_inputs,
    firm_inputs::patch_inputs,
    firm_inputs::list_attestations,
    firm_inputs::attest,
    firm_inputs::put_tier_inputs,
    listing::list_rules,
    listing::put_rules,
    listing::programme_stats,
    webhooks::create_endpoint,
    webhooks::list_endpoints,
    webhooks::get_endpoint,
    webhooks::patch_endpoint,
    webhooks::delete_endpoint,
    webhooks::enable_endpoint,
    webhooks::disable_endpoint,
    webhooks::rotate_secret,
    webhooks::test_endpoint,
    webhooks::recover,
    webhooks::list_attempts,
    webhooks::resend_event,
    funds::create_fund,
    funds::list_funds,
    funds::get_fund,
    funds::issue_key,
    roadshows::create_roadshow,
    roadshows::list_roadshows,
    roadshows::get_roadshow,
    roadshows::patch_roadshow,
    roadshows::set_status,
    roadshows::calendar,
    roadshows::recommended_firms,
    roadshows::outcome,
    roadshows::list_presenters,
    roadshows::put_presenter,
    roadshows::delete_presenter,
    roadshows::register,
    roadshows::list_registrations,
    roadshows::get_registration,
    roadshows::cancel_registration,
    roadshows::decide,
    roadshows::check_in,
    roadshows::firm_slots,
    roadshows::get_visibility,
    roadshows::put_visibility,
    investments::create_investment,
    investments::list_investments,
    investments::get_investment,
    investments::patch_investment,
    banks::create_bank,
    banks::list_banks,
    banks::get_bank,
    banks::issue_key,
    banks::list_lpr,
    banks::put_lpr,
    products::create_product,
    products::list_products,
    products::get_product,
    products::patch_product,
    products::delete_product,
    consents::grant,
    consents::list,
    consents::revoke,
    matches::list_matches,
    matches::get_match,
    matches::get_firm_matches,
    financing::rematch,
    applications::apply,
    applications::list,
    applications::get,
    applications::transition,
    financing::financing_status,
    financing::put_lead_bank,
    financing::put_tutoring,
];

/// One operation: its part of the document, and the route that runs its handler.
pub(crate) struct Operation {
    /// The document of this operation alone: its path, its method, and the schemas it names.
    pub(crate) document: utoipa::openapi::OpenApi,
    handle: fn(actix_web::Route) -> actix_web::Route,
}

/// Registers every route. Each path is one resource with the methods of its operations, so a
/// wrong method on a known path is 405 rather than 404.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let json = web::JsonConfig::default().limit(2 * 1024 * 1024).error_handler(problem::json_error);
    cfg.app_data(json)
        .app_data(web::PathConfig::default().error_handler(problem::path_error))
        .service(resource("/openapi.json").route(web::get().to(docs::openapi_json)));
    let mut by_path: BTreeMap<String, Vec<actix_web::Route>> = BTreeMap::new();
    for operation in operations() {
        for (path, item) in &operation.document.paths.paths {
            let routes = by_path.entry(path.clone()).or_default();
            routes.extend(methods(item).map(|method| (operation.handle)(web::method(method))));
        }
    }
    let mut by_path: Vec<_> = by_path.into_iter().collect();
    by_path.sort_by(|(a, _), (b, _)| match_order(a).cmp(&match_order(b)));
    for (path, routes) in by_path {
        cfg.service(routes.into_iter().fold(resource(&path), actix_web::Resource::route));
    }
}

/// The methods a path item of the document has operations for.
fn methods(item: &utoipa::openapi::PathItem) -> impl Iterator<Item = Method> {
    [
        (&item.get, Method::GET),
        (&item.post, Method::POST),
        (&item.put, Method::PUT),
        (&item.patch, Method::PATCH),
        (&item.delete, Method::DELETE),
    ]
    .into_iter()
    .filter(|(operation, _)| operation.is_some())
    .map(|(_, method)| method)
}

/// Actix tries resources in the order they are registered; where a literal segment and a
/// `{parameter}` could both match (`/v1/firms/import`, `/v1/firms/{id}`) the literal goes first.
fn match_order(path: &str) -> Vec<(bool, &str)> {
    path.split('/').map(|segment| (segment.starts_with('{'), segment)).collect()
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
