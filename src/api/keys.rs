//! API keys as a resource: revocation (keys are issued per bank, fund and firm under those resources).

use actix_web::web;
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use crate::error::AppResult;
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
