//! What anyone may see without signing in: the published roadshows (no firm is named there).

use actix_web::{HttpRequest, HttpResponse, web};

use super::see_other;
use super::session::{SESSION_COOKIE, Visitor};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::query::Query;

/// `/`: people who hold a session go to their start page, everyone else to the public list.
pub async fn root(req: HttpRequest) -> HttpResponse {
    see_other(if req.cookie(SESSION_COOKIE).is_some() { "/app" } else { "/roadshows" })
}

pub async fn roadshows(
    v: Visitor,
    state: web::Data<AppState>,
    q: Query<super::fund::CalendarQuery>,
) -> AppResult<HttpResponse> {
    super::fund::public_calendar(v, state, q).await
}
