//! Bulk import endpoint.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::auth::Caller;
use super::problem::Problem;
use crate::api::query::Query;
use crate::error::AppResult;
use crate::service::import::{self, ImportMode, ImportReport};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Validate and count without writing anything.
    #[serde(default)]
    pub dry_run: bool,
    /// Reject the whole file (422, nothing written) if any row is rejected. Without it, firms
    /// whose rows are all valid are written and the others reported; a firm's rows never split.
    #[serde(default)]
    pub atomic: bool,
}

/// Import firms and financials from CSV (one row per firm and fiscal year) or JSON (an array of
/// firms with `financials`). Upserts by credit code in one transaction; rejected rows are listed, and
/// a firm with any rejected row is not written at all. With `atomic=true` any rejection rejects the file (422).
/// A file that is not UTF-8 (e.g. GBK from Excel) and a duplicated column are refused whole.
#[utoipa::path(post, path = "/v1/firms/import", tag = "firms", params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "Columns: credit_code,name,city,district,industry_code,tier,tier_recognized_year,founded_on,expected_market_value,neeq_listed_on,neeq_layer,tax_credit_grade,contact_name,contact_email,contact_phone,fiscal_year,revenue,main_business_revenue,net_profit,net_profit_deducted,rd_expense,operating_cash_flow,total_assets,total_liabilities,net_assets,weighted_roe,invention_patents,employees,rd_staff (credit_code, name and industry_code required; others optional). JSON bodies (application/json) are an array of firm objects with an optional `financials` array."),
    responses((status = 200, body = ImportReport), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn import_firms(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: Query<ImportQuery>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let content_type =
        req.headers().get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let report = import::run_as(
        &state.db,
        &caller,
        content_type,
        &body,
        ImportMode { dry_run: q.dry_run, atomic: q.atomic },
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(report))
}
