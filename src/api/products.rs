//! Loan products: banks publish them, the office and enterprises browse the catalogue.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::domain::ids::BankId;

use super::auth::Caller;
use super::pagination::{PageQuery, Paging, page, page_schema};
use super::problem::Problem;
use super::{AppState, idempotent, parse_json, query_vocab};
use crate::api::query::{Paged, Query};
use crate::domain::access::Role;
use crate::domain::product::{LoanProduct, ProductDraft, ProductKind};
use crate::error::{AppError, AppResult};
use crate::service::matching;
use crate::service::products::{self, ProductFilter};
pub use crate::service::products::{ProductView, view};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    #[param(value_type = Option<ProductKind>)]
    pub kind: Option<String>,
    /// Admin and enterprise keys: only this bank's products.
    #[param(value_type = Option<Uuid>)]
    pub bank_id: Option<BankId>,
    /// Bank and admin keys: `false` lists withdrawn products (default: all of a bank's own,
    /// the published catalogue for others).
    pub active: Option<bool>,
}

page_schema!(ProductPage = ProductView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreateQuery {
    /// Admin keys only: the bank the product belongs to. Bank keys publish for their own bank.
    #[param(value_type = Option<Uuid>)]
    pub bank_id: Option<BankId>,
}

/// Publish a loan product (bank; or admin with `?bank_id=`). Invalid rules are 422 naming each
/// field, e.g. `eligibility.industry_prefixes.1`. Matching against every firm follows at once
/// in the background (`GET /v1/matches` shows the results as they land).
#[utoipa::path(post, path = "/v1/products", tag = "products", request_body = ProductDraft, params(CreateQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create safe")),
    responses((status = 201, body = ProductView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_product(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: Query<CreateQuery>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let bank_id = match (caller.role(), caller.bank_id(), q.bank_id) {
        (Role::Bank, Some(own), None) => own,
        (Role::Bank, Some(own), Some(b)) if b == own => own,
        (Role::Bank, _, _) => return Err(AppError::Forbidden("a bank key publishes products for its own bank".into())),
        (Role::Admin, _, Some(b)) => b,
        (Role::Admin, _, None) => {
            return Err(AppError::field("bank_id", "required", "an admin key names the bank: ?bank_id=…"));
        }
        (role, _, _) => return Err(AppError::Forbidden(format!("a {role} key cannot publish loan products"))),
    };
    let response = idempotent(&state, &req, &caller, &body, || async {
        let draft: ProductDraft = parse_json(&req, &body)?;
        let terms = draft.validate()?;
        let view = products::create(&state.db, bank_id, &terms, state.clock.now()).await?;
        Ok((StatusCode::CREATED, view))
    })
    .await;
    matching::wake();
    response
}

/// Products: a bank sees its own (withdrawn ones included); the office and enterprises see the
/// published catalogue of every bank.
#[utoipa::path(get, path = "/v1/products", tag = "products", params(ProductQuery, PageQuery),
    responses((status = 200, body = ProductPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_products(
    state: web::Data<AppState>,
    caller: Caller,
    q: Paged<ProductQuery>,
) -> AppResult<HttpResponse> {
    let mut filter =
        ProductFilter { kind: query_vocab("kind", q.kind.as_deref())?, bank_id: q.bank_id, active: q.active };
    match caller.role() {
        Role::Bank => filter.bank_id = caller.bank_id(),
        Role::Admin => filter.active = Some(q.active.unwrap_or(true)),
        Role::Enterprise => filter.active = Some(true),
        role => return Err(AppError::Forbidden(format!("a {role} key cannot list loan products"))),
    }
    let Paging { limit, after } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let views = products::list(&mut conn, &filter, after, limit + 1, state.clock.today()).await?;
    Ok(HttpResponse::Ok().json(page(views, limit, |v| v.product.id)))
}

/// One published product. A withdrawn one is gone from here (410 `product_withdrawn` for its bank
/// and the office, 404 for others); its record stays readable in `GET /v1/products?active=false`
/// and through the applications and matches that refer to it.
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products", params(("id" = Uuid, Path)),
    responses((status = 200, body = ProductView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 410, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_product(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<ProductView>> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(products::get_as(&mut conn, &caller, id.into_inner(), state.clock.today()).await?))
}

/// Change a product (its bank or the office): a JSON merge patch (RFC 7396) over the product's
/// fields (`eligibility` merges member by member; `null` removes a value). The result is
/// validated whole. Matches are re-evaluated against every firm in the background.
#[utoipa::path(patch, path = "/v1/products/{id}", tag = "products", params(("id" = Uuid, Path)),
    request_body(content = ProductDraft, content_type = "application/merge-patch+json"),
    responses((status = 200, body = ProductView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn patch_product(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<ProductView>> {
    let id = id.into_inner();
    let patch: serde_json::Value = parse_json(&req, &body)?;
    if !patch.is_object() {
        return Err(AppError::field("body", "invalid", "a merge patch is a JSON object"));
    }
    // Names the product does not have are refused, not silently ignored (removing a member that
    // does not exist would otherwise change nothing and answer 200).
    serde_json::from_value::<ProductDraft>(patch.clone()).map_err(|e| {
        AppError::Validation(vec![crate::domain::validate::FieldError::new(
            super::problem::serde_field(&e),
            "invalid",
            e.to_string(),
        )])
    })?;
    let change = |current: &LoanProduct| {
        let mut doc = serde_json::to_value(ProductDraft::from(&current.terms().map_err(AppError::Validation)?))
            .map_err(|e| AppError::Internal(e.into()))?;
        switch_pricing(&mut doc, &patch);
        merge_patch(&mut doc, &patch);
        let draft: ProductDraft = serde_json::from_value(doc).map_err(|e| {
            AppError::Validation(vec![crate::domain::validate::FieldError::new(
                super::problem::serde_field(&e),
                "invalid",
                e.to_string(),
            )])
        })?;
        Ok(draft.validate()?)
    };
    let updated = products::update_as(&state.db, &caller, id, change, state.clock.now()).await?;
    matching::wake();
    Ok(web::Json(updated))
}

/// Withdraw a product (soft delete): it stops matching and no longer takes applications; its
/// matches are withdrawn in the background; history and applications stay. Afterwards
/// `GET /v1/products/{id}` answers 410 and the record is listed by `GET /v1/products?active=false`.
#[utoipa::path(delete, path = "/v1/products/{id}", tag = "products", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Withdrawn (or already withdrawn)"), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn delete_product(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    products::withdraw_as(&state.db, &caller, id.into_inner(), state.clock.now()).await?;
    matching::wake();
    Ok(HttpResponse::NoContent().finish())
}

/// A patch that sets one pricing basis drops the other one (unless it names it too), so that
/// `{"fixed_rate": "3.45"}` alone turns an LPR-priced product into a fixed-rate one.
fn switch_pricing(doc: &mut serde_json::Value, patch: &serde_json::Value) {
    let sets = |k: &str| patch.get(k).is_some_and(|v| !v.is_null());
    let names = |k: &str| patch.get(k).is_some();
    let Some(d) = doc.as_object_mut() else { return };
    if sets("fixed_rate") {
        for k in ["rate_spread_bp", "lpr_tenor"] {
            if !names(k) {
                d.remove(k);
            }
        }
    }
    if sets("rate_spread_bp") && !names("fixed_rate") {
        d.remove("fixed_rate");
    }
}

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match patch {
        serde_json::Value::Object(p) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(serde_json::Map::new());
            }
            if let serde_json::Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": {"b": "c", "d": 1}}), json!({"a": {"b": null, "e": 2}}), json!({"a": {"d": 1, "e": 2}})),
            (json!({"a": ["x"]}), json!({"a": ["y", "z"]}), json!({"a": ["y", "z"]})),
            (json!({"a": 1}), json!({"a": {"b": 2}}), json!({"a": {"b": 2}})),
        ];
        for (mut doc, patch, want) in cases {
            switch_pricing(&mut doc, &patch);
            merge_patch(&mut doc, &patch);
            assert_eq!(doc, want, "{patch}");
        }
    }
}
