//! `Authorization: Bearer <key>` → [`Principal`]. Missing, unknown or revoked keys are 401.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::AppState;
use crate::domain::access::Principal;
use crate::error::AppError;

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Principal);

impl std::ops::Deref for Caller {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header =
            req.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|h| h.to_str().ok()).map(str::to_owned);
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state missing")))?;
            let Some(header) = header else {
                return Err(AppError::Unauthorized("send an API key: Authorization: Bearer <key>".into()));
            };
            let Some(key) = header.strip_prefix("Bearer ").map(str::trim).filter(|k| !k.is_empty()) else {
                return Err(AppError::Unauthorized("the Authorization header must be: Bearer <key>".into()));
            };
            match state.keys.authenticate(&state.db, key).await? {
                Some(p) => {
                    tracing::Span::current().record("key_id", tracing::field::display(p.key_id));
                    req.extensions_mut().insert(p);
                    Ok(Caller(p))
                }
                None => Err(AppError::Unauthorized("the API key is unknown or revoked".into())),
            }
        })
    }
}

impl From<crate::domain::access::Denied> for AppError {
    fn from(d: crate::domain::access::Denied) -> Self {
        AppError::Forbidden(d.0)
    }
}
