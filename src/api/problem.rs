//! `application/problem+json` (RFC 9457): the one place where errors become responses.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::validate::FieldError;
use crate::error::AppError;

/// The error body of every 4xx and 5xx answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable code, e.g. `validation_failed`, `duplicate_credit_code`.
    pub code: String,
    /// For 422: every field that failed, each with its own code and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Problem-specific members (e.g. `existing_firm_id`, `allowed_next`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<serde_json::Value>,
}

impl AppError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            AppError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed"),
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code, "Bad request"),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Missing or invalid API key"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed for this key"),
            AppError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            AppError::Gone { code, .. } => (StatusCode::GONE, code, "Gone"),
            AppError::Conflict { code, .. } => (StatusCode::CONFLICT, code, "Conflict"),
            AppError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Request body too large")
            }
            AppError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type")
            }
            AppError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "not_acceptable", "Not acceptable"),
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable"),
            AppError::Overloaded { .. } => (StatusCode::TOO_MANY_REQUESTS, "overloaded", "Too many requests at once"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Internal error"),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (status, code, title) = self.parts();
        let detail = match self {
            AppError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("{} field(s) failed validation: {}", errors.len(), fields.join(", "))
            }
            // The cause is logged by the middleware; the client learns only that it failed.
            AppError::Internal(_) => {
                "the request failed on our side; it has been logged with the request id".to_owned()
            }
            other => other.to_string(),
        };
        Problem {
            type_: format!("/problems/{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors: match self {
                AppError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            extra: match self {
                AppError::Conflict { extra, .. } => extra.clone(),
                _ => None,
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let problem = self.to_problem();
        let mut resp = HttpResponse::build(self.status_code());
        resp.content_type("application/problem+json");
        match self {
            AppError::Unauthorized(_) => {
                resp.insert_header(("WWW-Authenticate", "Bearer"));
            }
            AppError::Overloaded { retry_after_secs } => {
                resp.insert_header((actix_web::http::header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        resp.json(problem)
    }
}

/// Turns actix's own extractor errors (bad JSON, bad query, bad path, oversize body) into problems.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let app = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => AppError::PayloadTooLarge(err.to_string()),
        E::ContentType => AppError::UnsupportedMediaType("the body must be application/json".into()),
        E::Deserialize(e) if e.is_data() => {
            AppError::Validation(vec![FieldError::new(serde_field(e), "invalid", e.to_string())])
        }
        _ => AppError::bad_request("invalid_json", format!("the body is not valid JSON: {err}")),
    };
    app.into()
}

/// The field a serde error is about, when its message names one (best effort).
pub fn serde_field(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = msg.split(marker).nth(1)
            && let Some(name) = rest.split('`').next()
        {
            return name.to_owned();
        }
    }
    "body".to_owned()
}

/// A malformed id in the path cannot name an existing resource.
pub fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::NotFound { what: "resource" }.into()
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound { what: "resource" })
}

/// A known path asked with a method it does not take: 405 naming the methods it does take, read
/// from the OpenAPI document so that the answer and the contract cannot disagree.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let allowed = req.match_pattern().and_then(|p| allowed_methods().get(&p).cloned()).unwrap_or_else(|| "GET".into());
    let problem = Problem {
        type_: "/problems/method_not_allowed".into(),
        title: "Method not allowed".into(),
        status: 405,
        detail: format!("this path takes {allowed}"),
        code: "method_not_allowed".into(),
        errors: None,
        extra: None,
    };
    HttpResponse::MethodNotAllowed()
        .content_type("application/problem+json")
        .insert_header((actix_web::http::header::ALLOW, allowed))
        .json(problem)
}

/// Path template → the `Allow` value of its operations (HEAD goes with GET, as actix serves it).
fn allowed_methods() -> &'static HashMap<String, String> {
    static ALLOWED: OnceLock<HashMap<String, String>> = OnceLock::new();
    ALLOWED.get_or_init(|| {
        let mut map: HashMap<String, String> = super::docs::openapi()
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let allow: Vec<String> = super::methods(item)
                    .map(|m| if m == actix_web::http::Method::GET { "GET, HEAD".to_owned() } else { m.to_string() })
                    .collect();
                (path.clone(), allow.join(", "))
            })
            .collect();
        map.insert("/openapi.json".into(), "GET, HEAD".into());
        map
    })
}

/// The last word on errors: an error answer that did not come through [`AppError`] (actix's own:
/// a body over the limit, a connection-level read failure, a 404 from a scope) is rewritten into
/// a problem document with its status. HTML answers of the pages are left as they are.
pub async fn errors_as_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let status = res.status();
    let content_type = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let already = content_type.starts_with("application/problem+json") || content_type.starts_with("text/html");
    if status.as_u16() < 400 || already {
        return Ok(res.map_into_left_body());
    }
    let detail = match res.response().error() {
        Some(e) if status.is_client_error() => e.to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal_error",
        _ => "bad_request",
    };
    let problem = Problem {
        type_: format!("/problems/{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        errors: None,
        extra: None,
    };
    let (req, old) = res.into_parts();
    let mut fresh = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != actix_web::http::header::CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
            fresh.insert_header((name.clone(), value.clone()));
        }
    }
    let fresh = fresh.content_type("application/problem+json").json(problem);
    Ok(ServiceResponse::new(req, fresh).map_into_right_body())
}
