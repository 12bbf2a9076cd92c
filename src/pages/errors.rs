//! Errors as HTML pages: the API's `AppError`, with the API's status, shown in the reader's language.

use actix_web::HttpResponse;
use askama::Template;

use super::i18n::Lang;
use super::{Ctx, frame};
use crate::domain::validate::FieldError;
use crate::error::AppError;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub ctx: Ctx,
    pub status: u16,
    pub heading: &'static str,
    pub explanation: &'static str,
    /// The API's own words, when they help (conflicts, bad requests); never for 5xx.
    pub detail: Option<String>,
    pub fields: Vec<FieldError>,
}

fn key_for(e: &AppError) -> &'static str {
    match e {
        AppError::Forbidden(_) => "error.forbidden",
        AppError::NotFound { .. } | AppError::Gone { .. } => "error.not_found",
        AppError::Conflict { .. } => "error.conflict",
        AppError::Validation(_) => "error.validation",
        AppError::BadRequest { .. } | AppError::UnsupportedMediaType(_) | AppError::NotAcceptable(_) => {
            "error.bad_request"
        }
        AppError::PayloadTooLarge(_) => "error.too_large",
        AppError::Unauthorized(_) => "error.unauthorized",
        AppError::Unavailable(_) | AppError::Overloaded { .. } => "error.unavailable",
        AppError::Internal(_) => "error.internal",
    }
}

pub fn page(lang: Lang, e: &AppError) -> HttpResponse {
    page_with(lang, e, key_for(e))
}

pub fn page_with(lang: Lang, e: &AppError, key: &'static str) -> HttpResponse {
    let status = frame::status_of(e);
    if let AppError::Internal(cause) = e {
        tracing::error!(error = format!("{cause:#}"), "page failed");
    }
    let ctx = Ctx::bare(lang);
    let detail = match e {
        AppError::Conflict { detail, .. } | AppError::BadRequest { detail, .. } => Some(detail.clone()),
        _ => None,
    };
    let fields = match e {
        AppError::Validation(list) => list.clone(),
        _ => Vec::new(),
    };
    let page = ErrorPage {
        heading: ctx.t(&format!("{key}.title")),
        explanation: ctx.t(&format!("{key}.text")),
        ctx,
        status: status.as_u16(),
        detail,
        fields,
    };
    match page.render() {
        Ok(html) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html),
        Err(_) => HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(status.to_string()),
    }
}
