//! Financing applications: an enterprise applies, the bank (or the office) moves it through
//! review to an outcome, the enterprise may withdraw before a decision.
//!
//! Moves are `POST /v1/applications/{id}/transitions` with the target `status` and that status's
//! fields (a POST, not a PATCH: each move is a new, dated, attributed fact in the history, not
//! an edit of the application).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::pagination::{Page, decode_cursor, limit, page};
use super::problem::Problem;
use super::{AppState, idempotent, parse_json, query_vocab};
use crate::domain::access::Role;
use crate::domain::application::{
    Actor, ApplicationContext, ApplicationDraft, ApplicationStatus, StatusChange, StatusChangeDraft, StatusChangeError,
    allowed_next,
};
use crate::domain::consent::NewConsent;
use crate::error::{AppError, AppResult};
use crate::service::consent;
use crate::store::applications::{self, AppFilter, Application, HistoryEntry, Scope};
use crate::store::{Conn, consents, events, products};

/// How long the consent that applying grants runs (a loan decision and the first year of the loan).
pub const APPLICATION_CONSENT_DAYS: i64 = 365;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationDetail {
    #[serde(flatten)]
    pub application: Application,
    /// Every move, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Where the caller may move it next.
    pub allowed_next: Vec<ApplicationStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationPage {
    pub items: Vec<Application>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    #[param(value_type = Option<ApplicationStatus>)]
    pub status: Option<String>,
    pub product_id: Option<Uuid>,
    /// Admin and bank keys.
    pub firm_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn actor(caller: &Caller) -> AppResult<Actor> {
    match caller.role {
        Role::Admin => Ok(Actor::Admin),
        Role::Bank => Ok(Actor::Bank),
        Role::Enterprise => Ok(Actor::Enterprise),
        Role::Fund => Err(AppError::Forbidden("a fund key has no part in loan applications".into())),
    }
}

/// What the caller may see: the office all; a bank its products' applications of firms whose
/// consent covers it; an enterprise its own.
fn scope(caller: &Caller, now: chrono::DateTime<chrono::Utc>) -> AppResult<Scope> {
    match (caller.role, caller.subject) {
        (Role::Admin, _) => Ok(Scope::All),
        (Role::Bank, Some(bank_id)) => Ok(Scope::Bank { bank_id, now }),
        (Role::Enterprise, Some(firm)) => Ok(Scope::Firm(firm)),
        (role, _) => Err(AppError::Forbidden(format!("a {role} key cannot read loan applications"))),
    }
}

async fn detail(conn: &mut Conn, application: Application, actor: Actor) -> AppResult<ApplicationDetail> {
    let history = applications::history(conn, application.id).await?;
    let allowed_next = allowed_next(application.status, actor);
    Ok(ApplicationDetail { application, history, allowed_next })
}

/// Apply for a product (enterprise key, for its own firm). Amount and term must fit the
/// product's ranges; the product must be open. Applying grants the product's bank consent to see
/// the firm (for a year) if no consent in force covers it yet. One open application (submitted,
/// under review or approved) per product: a second is 409.
#[utoipa::path(post, path = "/v1/applications", tag = "applications", request_body = ApplicationDraft,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried application safe")),
    responses((status = 201, body = ApplicationDetail), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem, description = "An open application for this product exists"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn apply(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let Some(firm_id) = caller.firm_id() else {
        return Err(AppError::Forbidden("only an enterprise key applies, for its own firm".into()));
    };
    idempotent(&state, &req, &caller, &body, || async {
        let draft: ApplicationDraft = parse_json(&req, &body)?;
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        let product = match draft.product_id {
            Some(id) => products::get(&mut tx, id).await?,
            None => None,
        };
        let new = draft.validate(product.as_ref(), now.date_naive())?;
        let product = product.ok_or(AppError::not_found("product"))?;
        let id = match applications::insert(&mut tx, firm_id, product.bank_id, &new, now).await? {
            Ok(id) => id,
            Err(existing) => {
                return Err(AppError::Conflict {
                    code: "duplicate_application",
                    detail: format!("the firm already has an open application for this product: {existing}"),
                    extra: Some(json!({ "existing_application_id": existing })),
                });
            }
        };
        applications::add_history(&mut tx, id, None, ApplicationStatus::Submitted, &caller, None, None, now).await?;
        events::record(
            &mut tx,
            events::NewEvent {
                event_type: "application.submitted",
                firm_id: Some(firm_id),
                bank_id: Some(product.bank_id),
                fact_key: Some(format!("application:{id}:submitted")),
                data: json!({ "application_id": id, "firm_id": firm_id, "product_id": product.id,
                    "amount": new.amount, "term_months": new.term_months }),
            },
            now,
        )
        .await?;
        if !consents::covers(&mut tx, firm_id, product.bank_id, now).await? {
            let grant = NewConsent {
                bank_id: Some(product.bank_id),
                purpose: consents::PURPOSE,
                expires_at: now + Duration::days(APPLICATION_CONSENT_DAYS),
            };
            consent::grant(&mut tx, firm_id, &grant, Some(&caller.0), now).await?;
        }
        let application = applications::get(&mut tx, id).await?.ok_or(AppError::not_found("application"))?;
        let out = detail(&mut tx, application, Actor::Enterprise).await?;
        tx.commit().await?;
        tracing::info!(application_id = %id, firm_id = %firm_id, product_id = %product.id, "application submitted");
        Ok((StatusCode::CREATED, out))
    })
    .await
}

/// Applications the caller may see: the office all; a bank those for its products whose firm's
/// consent covers it; an enterprise its own. Newest last (id order), keyset paginated.
#[utoipa::path(get, path = "/v1/applications", tag = "applications", params(ApplicationQuery),
    responses((status = 200, body = ApplicationPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ApplicationQuery>,
) -> AppResult<web::Json<Page<Application>>> {
    let scope = scope(&caller, state.clock.now())?;
    let filter =
        AppFilter { status: query_vocab("status", q.status.as_deref())?, product_id: q.product_id, firm_id: q.firm_id };
    let limit = limit(q.limit)?;
    let after = decode_cursor(q.cursor.as_deref())?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = applications::list(&mut conn, scope, &filter, after, limit + 1).await?;
    Ok(web::Json(page(rows, limit, |a| a.id)))
}

/// One application with its history (404 when the caller may not see it).
#[utoipa::path(get, path = "/v1/applications/{id}", tag = "applications", params(("id" = Uuid, Path)),
    responses((status = 200, body = ApplicationDetail), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<ApplicationDetail>> {
    let scope = scope(&caller, state.clock.now())?;
    let actor = actor(&caller)?;
    let mut conn = state.db.pool().acquire().await?;
    let a =
        applications::get_scoped(&mut conn, id.into_inner(), scope).await?.ok_or(AppError::not_found("application"))?;
    Ok(web::Json(detail(&mut conn, a, actor).await?))
}

/// Move an application: `{"status": "under_review"}`; `{"status": "approved", "approved_amount",
/// "approved_term_months", "approved_rate", "approved_on"?}`; `{"status": "disbursed",
/// "disbursed_amount", "disbursed_on"?}`; `{"status": "declined", "reason_code", "reason_text"?}`
/// (bank or office); `{"status": "withdrawn"}` (the enterprise, before a decision). Each move is
/// dated, attributed and recorded as an event. A move the life cycle does not allow from the
/// current status is 409 with `allowed_next`; a move that belongs to another role is 403.
#[utoipa::path(post, path = "/v1/applications/{id}/transitions", tag = "applications", params(("id" = Uuid, Path)),
    request_body = StatusChangeDraft,
    responses((status = 200, body = ApplicationDetail), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Illegal transition; `allowed_next` names the legal ones"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn transition(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<ApplicationDetail>> {
    let id = id.into_inner();
    let actor = actor(&caller)?;
    let now = state.clock.now();
    let scope = scope(&caller, now)?;
    let draft: StatusChangeDraft = parse_json(&req, &body)?;
    let mut tx = state.db.begin().await?;
    let a = applications::get_scoped(&mut tx, id, scope).await?.ok_or(AppError::not_found("application"))?;
    let product = products::get(&mut tx, a.product_id).await?.ok_or(AppError::not_found("product"))?;
    let ctx = ApplicationContext {
        status: a.status,
        submitted_on: applications::submitted_on(&a),
        product: &product,
        approval: a.approval.as_ref(),
        today: now.date_naive(),
    };
    let change = match draft.validate(&ctx, actor) {
        Ok(c) => c,
        Err(StatusChangeError::Invalid(errors)) => return Err(AppError::Validation(errors)),
        Err(StatusChangeError::Illegal(i)) if i.forbidden => {
            let allowed: Vec<&str> = i.allowed.iter().map(|s| s.as_str()).collect();
            return Err(AppError::Forbidden(format!(
                "{i}: that move belongs to another party; you may move it to: [{}]",
                allowed.join(", ")
            )));
        }
        Err(StatusChangeError::Illegal(i)) => {
            return Err(AppError::Conflict {
                code: "illegal_transition",
                detail: i.to_string(),
                extra: Some(json!({ "from": i.from, "to": i.to, "allowed_next": i.allowed })),
            });
        }
    };
    if !applications::apply_change(&mut tx, id, a.status, &change, now).await? {
        return Err(AppError::conflict(
            "concurrent_change",
            "the application changed meanwhile; read it and try again",
        ));
    }
    let to = change.status();
    let detail_json = match &change {
        StatusChange::Approved(x) => Some(json!(x)),
        StatusChange::Disbursed(x) => Some(json!(x)),
        StatusChange::Declined(x) => Some(json!(x)),
        StatusChange::UnderReview | StatusChange::Withdrawn => None,
    };
    let remark = draft.remark();
    applications::add_history(&mut tx, id, Some(a.status), to, &caller, detail_json, remark.as_deref(), now).await?;
    events::record(
        &mut tx,
        events::NewEvent {
            event_type: if to == ApplicationStatus::Withdrawn {
                "application.withdrawn"
            } else {
                "application.status_changed"
            },
            firm_id: Some(a.firm_id),
            bank_id: Some(a.bank_id),
            fact_key: Some(format!("application:{id}:{to}")),
            data: json!({ "application_id": id, "firm_id": a.firm_id, "product_id": a.product_id,
                "from": a.status, "to": to, "actor": actor }),
        },
        now,
    )
    .await?;
    notify_firm(&mut tx, &state, &a, &product.name, to, remark.clone(), now).await?;
    let updated = applications::get(&mut tx, id).await?.ok_or(AppError::not_found("application"))?;
    let out = detail(&mut tx, updated, actor).await?;
    tx.commit().await?;
    tracing::info!(application_id = %id, from = %a.status, to = %to, "application moved");
    Ok(web::Json(out))
}

/// Queues the mail to the firm's contact about its application's new state (same transaction).
/// A firm without a usable contact address is skipped, not failed: the change itself stands.
async fn notify_firm(
    conn: &mut crate::store::Conn,
    state: &AppState,
    a: &Application,
    product_name: &str,
    to: ApplicationStatus,
    remark: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    use crate::mail::templates::{MailContext, MailKind, MailRequest};
    let Some(firm) = crate::store::firms::get(conn, a.firm_id).await? else { return Ok(()) };
    let Some(email) = firm.contact_email.filter(|e| crate::mail::outbox::deliverable(e)) else { return Ok(()) };
    let bank_name = crate::store::banks::get(conn, a.bank_id).await?.map(|b| b.name).unwrap_or_default();
    let request = MailRequest {
        kind: MailKind::ApplicationStatusChanged {
            application_id: a.id,
            product_name: product_name.to_owned(),
            bank_name,
            from: a.status.to_string(),
            to: to.to_string(),
            remark,
        },
        context: MailContext {
            recipient: crate::mail::ics::Party { name: firm.contact_name.unwrap_or(firm.name), email },
            organizer: crate::mail::outbox::organizer(&state.config),
            created_at: now,
            roadshow: None,
            registration: None,
        },
    };
    crate::mail::outbox::enqueue(conn, &request, now).await?;
    Ok(())
}
