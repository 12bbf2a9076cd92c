//! What wraps every page response, in one place: the CSRF check of every form post, the security
//! headers (strict Content-Security-Policy, no framing, no referrer, no caching of personal pages),
//! the pre-session cookie, and errors shown as HTML pages (a missing or ended session goes to the
//! sign-in page).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::StreamExt as _;

use super::session::{
    self, CSRF_FIELD, CSRF_HEADER, CsrfBinding, PRESESSION_COOKIE, SESSION_COOKIE, csrf_token, lang_of, same_token,
};
use super::{PageState, errors};
use crate::error::AppError;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

pub async fn frame(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let pages = req
        .app_data::<web::Data<PageState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("page state missing")))?;
    let existing = req
        .cookie(SESSION_COOKIE)
        .or_else(|| req.cookie(PRESESSION_COOKIE))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty());
    let (binding, new_presession) = match existing {
        Some(b) => (b, None),
        None => {
            let nonce = session::new_presession();
            (nonce.clone(), Some(nonce))
        }
    };
    let mut req = req;
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let lang = lang_of(req.request());
        let body = read_body(&mut req, pages.max_body).await;
        let submitted = match &body {
            Ok(bytes) => submitted_token(&req, bytes).await,
            Err(_) => None,
        };
        let valid = new_presession.is_none() && submitted.is_some_and(|t| same_token(&t, &csrf_token(&binding)));
        match body {
            Err(e) => {
                return Ok(req.into_response(errors::page(lang, &e)).map_into_boxed_body());
            }
            Ok(_) if !valid => {
                tracing::warn!(path = req.path(), "form post refused: missing or wrong CSRF token");
                let refused = AppError::Forbidden("csrf".into());
                let resp = errors::page_with(lang, &refused, "error.csrf");
                return Ok(with_headers(req.into_response(resp).map_into_boxed_body()));
            }
            Ok(bytes) => req.set_payload(actix_web::dev::Payload::from(bytes)),
        }
    }
    req.extensions_mut().insert(CsrfBinding(binding));
    let lang = lang_of(req.request());
    let path = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let res = next.call(req).await?;
    let mut res = match res.response().error().and_then(|e| e.as_error::<AppError>()) {
        Some(AppError::Unauthorized(_)) => {
            let target =
                format!("/signin?next={}", url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>());
            let mut resp = HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish();
            if res.request().cookie(SESSION_COOKIE).is_some() {
                let _ = resp.add_cookie(&session::removal(&pages, SESSION_COOKIE));
            }
            res.into_response(resp).map_into_boxed_body()
        }
        Some(e) => {
            let resp = errors::page(lang, e);
            res.into_response(resp).map_into_boxed_body()
        }
        None => res.map_into_boxed_body(),
    };
    if let Some(nonce) = new_presession {
        let c = session::cookie(&pages, PRESESSION_COOKIE, nonce, None);
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(with_headers(res))
}

fn with_headers(mut res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let h = res.headers_mut();
    let set = |h: &mut actix_web::http::header::HeaderMap, name: &'static str, value: &'static str| {
        h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    };
    set(h, "content-security-policy", CONTENT_SECURITY_POLICY);
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    res
}

async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, AppError> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::bad_request("invalid_body", "the form could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge("the upload is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The token sent with a form: the `X-CSRF-Token` header (htmx sends it), or the `csrf_token`
/// field of a URL-encoded or multipart body.
async fn submitted_token(req: &ServiceRequest, body: &web::Bytes) -> Option<String> {
    if let Some(h) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(h.to_owned());
    }
    let ctype =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if ctype.starts_with("application/x-www-form-urlencoded") {
        return url::form_urlencoded::parse(body).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
    }
    if ctype.starts_with("multipart/form-data") {
        let stream = futures_util::stream::once({
            let body = body.clone();
            async move { Ok::<_, actix_web::error::PayloadError>(body) }
        });
        let mut parts = actix_multipart::Multipart::new(req.headers(), stream);
        while let Some(Ok(mut field)) = parts.next().await {
            if field.name() != Some(CSRF_FIELD) {
                continue;
            }
            let mut value = Vec::new();
            while let Some(Ok(chunk)) = field.next().await {
                value.extend_from_slice(&chunk);
                if value.len() > 256 {
                    return None;
                }
            }
            return String::from_utf8(value).ok();
        }
    }
    None
}

/// The status a page error is shown with (the API's mapping).
pub fn status_of(e: &AppError) -> StatusCode {
    actix_web::ResponseError::status_code(e)
}
