//! Fund organisations and their managers' API keys.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use uuid::Uuid;

use super::auth::Caller;
use super::keys::{IssuedKey, KeyRequest};
use super::pagination::{Page, PageQuery, Paging, page, page_schema};
use super::problem::Problem;
use super::{AppState, idempotent, parse_json, parse_optional_json};
use crate::api::query::Query;
use crate::domain::access::Role;
use crate::domain::roadshow::{Fund, FundInput};
use crate::error::{AppError, AppResult};
use crate::service::funds;

page_schema!(FundPage = Fund);

/// Onboard a fund organisation (admin).
#[utoipa::path(post, path = "/v1/funds", tag = "funds", request_body = FundInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create safe")),
    responses((status = 201, body = Fund), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_fund(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    idempotent(&state, &req, &caller, &body, || async {
        let input: FundInput = parse_json(&req, &body)?;
        let fields = input.validate()?;
        let fund = funds::create(&state.db, &fields, state.clock.now()).await?;
        Ok((StatusCode::CREATED, fund))
    })
    .await
}

/// List funds (admin: all; fund key: its own).
#[utoipa::path(get, path = "/v1/funds", tag = "funds", params(PageQuery),
    responses((status = 200, body = FundPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_funds(
    state: web::Data<AppState>,
    caller: Caller,
    q: Query<PageQuery>,
) -> AppResult<web::Json<Page<Fund>>> {
    let only = funds::listable(&caller)?;
    let Paging { limit, after } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = funds::list(&mut conn, only, after, limit + 1).await?;
    Ok(web::Json(page(rows, limit, |f| f.id)))
}

fn require_fund(caller: &Caller, id: Uuid) -> AppResult<()> {
    match caller.role() {
        Role::Admin => Ok(()),
        Role::Fund if caller.fund_id() == Some(id) => Ok(()),
        Role::Fund => Err(AppError::Forbidden("a fund key acts only for its own fund".into())),
        role => Err(AppError::Forbidden(format!("a {role} key cannot read funds"))),
    }
}

/// One fund (admin, or the fund's own key).
#[utoipa::path(get, path = "/v1/funds/{id}", tag = "funds", params(("id" = Uuid, Path)),
    responses((status = 200, body = Fund), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_fund(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> AppResult<web::Json<Fund>> {
    let id = id.into_inner();
    require_fund(&caller, id)?;
    let mut conn = state.db.pool().acquire().await?;
    funds::get(&mut conn, id).await.map(web::Json)
}

/// Issue an API key for one of the fund's managers (admin). The key is in the answer once.
#[utoipa::path(post, path = "/v1/funds/{id}/keys", tag = "funds", params(("id" = Uuid, Path)),
    request_body(content = Option<KeyRequest>),
    responses((status = 201, body = IssuedKey), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn issue_key(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let id = id.into_inner();
    let label = parse_optional_json::<KeyRequest>(&req, &body)?.label()?;
    let (info, key) = funds::issue_key(&state.db, id, label, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(IssuedKey { key, info }))
}
