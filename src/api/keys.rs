//! API keys as a resource: revocation (keys are issued per bank, fund and firm under those resources).

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use crate::error::{AppError, AppResult};
use crate::service::api_keys;
use crate::service::api_keys::ApiKeyInfo;

/// Revokes a key (office only). It is refused from then on by every instance of the service;
/// revoking again answers the revoked key.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "operations", params(("id" = Uuid, Path)),
    responses((status = 200, body = ApiKeyInfo), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn revoke_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<ApiKeyInfo>> {
    let now = state.clock.now();
    Ok(web::Json(api_keys::revoke(&state.db, &state.keys, &caller, id.into_inner(), now).await?))
}

/// A newly issued key (bank or fund): `key` is shown this once and never stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKey {
    pub key: String,
    #[serde(flatten)]
    pub info: ApiKeyInfo,
}

const MAX_LABEL_CHARS: usize = 200;

/// Body of `POST /v1/banks/{id}/keys` and `POST /v1/funds/{id}/keys` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KeyRequest {
    /// Who or what the key is for (e.g. "loan system (production)", "投资经理 1"); shown in key
    /// listings. Absent or blank: a label naming the bank or fund.
    #[schema(max_length = 200)]
    pub label: Option<String>,
}

impl KeyRequest {
    /// The label as given (trimmed), `None` for the default; the length bound applies to the
    /// text as sent, as the document states it.
    pub fn label(self) -> AppResult<Option<String>> {
        match self.label {
            Some(l) if l.chars().count() > MAX_LABEL_CHARS => {
                Err(AppError::field("label", "too_long", format!("must be at most {MAX_LABEL_CHARS} characters")))
            }
            Some(l) => Ok(Some(l.trim().to_owned()).filter(|l| !l.is_empty())),
            None => Ok(None),
        }
    }
}
