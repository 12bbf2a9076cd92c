//! Financing applications: an enterprise applies, the bank (or the office) moves it through
//! review to an outcome, the enterprise may withdraw before a decision. The API and the pages
//! call these with the caller's principal; each runs in the caller's transaction.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::access::{ActsFor, Principal};
use crate::domain::application::{
    Actor, ApplicationContext, ApplicationDraft, ApplicationStatus, StatusChange, StatusChangeDraft, StatusChangeError,
    allowed_next,
};
use crate::domain::consent::NewConsent;
use crate::domain::events::EventKind;
use crate::domain::ids::FirmId;
use crate::error::{AppError, AppResult};
use crate::mail::ics::Party;
use crate::service::consent;
use crate::service::events::{self, NewEvent};
use crate::service::paging::page_schema;
use crate::store::applications::{self, HistoryEntry, Scope};
pub use crate::store::applications::{AppFilter, Application};
use crate::store::{Conn, consents, products};

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

page_schema!(ApplicationPage = Application);

pub fn actor(caller: &Principal) -> AppResult<Actor> {
    match caller.acts_for {
        ActsFor::Admin => Ok(Actor::Admin),
        ActsFor::Bank(_) => Ok(Actor::Bank),
        ActsFor::Enterprise(_) => Ok(Actor::Enterprise),
        ActsFor::Fund(_) => Err(AppError::Forbidden("a fund key has no part in loan applications".into())),
    }
}

/// What the caller may see: the office all; a bank its products' applications of firms whose
/// consent covers it; an enterprise its own.
pub fn scope(caller: &Principal, now: chrono::DateTime<chrono::Utc>) -> AppResult<Scope> {
    match caller.acts_for {
        ActsFor::Admin => Ok(Scope::All),
        ActsFor::Bank(bank_id) => Ok(Scope::Bank { bank_id, now }),
        ActsFor::Enterprise(firm) => Ok(Scope::Firm(firm)),
        ActsFor::Fund(_) => Err(AppError::Forbidden("a fund key cannot read loan applications".into())),
    }
}

#[tracing::instrument(skip_all)]
pub async fn detail(conn: &mut Conn, application: Application, actor: Actor) -> AppResult<ApplicationDetail> {
    let history = applications::history(conn, application.id).await?;
    let allowed_next = allowed_next(application.status, actor);
    Ok(ApplicationDetail { application, history, allowed_next })
}

/// Applies for a product as the caller's own firm (enterprise only). Applying grants the
/// product's bank consent to see the firm (for a year) if no consent in force covers it yet.
/// The firm an application is made for: only an enterprise key applies, for its own firm. Asked
/// before the draft is read, so that a caller who may not apply learns that and nothing else.
pub fn applicant(caller: &Principal) -> AppResult<FirmId> {
    caller.firm_id().ok_or_else(|| AppError::Forbidden("only an enterprise key applies, for its own firm".into()))
}

#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn apply(
    conn: &mut Conn,
    caller: &Principal,
    draft: &ApplicationDraft,
    now: DateTime<Utc>,
) -> AppResult<ApplicationDetail> {
    let firm_id = applicant(caller)?;
    let product = match draft.product_id {
        Some(id) => products::get(conn, id).await?,
        None => None,
    };
    let new = draft.validate(product.as_ref(), now.date_naive())?;
    let product = product.ok_or(AppError::not_found("product"))?;
    let id = match applications::insert(conn, firm_id, product.bank_id, &new, now).await? {
        Ok(id) => id,
        Err(existing) => {
            return Err(AppError::Conflict {
                code: "duplicate_application",
                detail: format!("the firm already has an open application for this product: {existing}"),
                extra: Some(json!({ "existing_application_id": existing })),
            });
        }
    };
    applications::add_history(conn, id, None, ApplicationStatus::Submitted, caller, None, None, now).await?;
    events::record(
        conn,
        NewEvent::fact(
            EventKind::ApplicationSubmitted,
            Some(firm_id),
            Some(product.bank_id),
            format!("application:{id}:submitted"),
            json!({ "application_id": id, "firm_id": firm_id, "product_id": product.id,
                "amount": new.amount, "term_months": new.term_months }),
        ),
        now,
    )
    .await?;
    if !consents::covers(conn, firm_id, product.bank_id, now).await? {
        let grant = NewConsent {
            bank_id: Some(product.bank_id),
            purpose: consents::PURPOSE,
            expires_at: now + Duration::days(APPLICATION_CONSENT_DAYS),
        };
        consent::grant(conn, firm_id, &grant, Some(caller), now).await?;
    }
    let application = applications::get(conn, id).await?.ok_or(AppError::not_found("application"))?;
    let out = detail(conn, application, Actor::Enterprise).await?;
    tracing::info!(application_id = %id, firm_id = %firm_id, product_id = %product.id, "application submitted");
    Ok(out)
}

/// Applications the caller may see, in id order from `after`.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn list(
    conn: &mut Conn,
    caller: &Principal,
    filter: &AppFilter,
    after: Option<Uuid>,
    limit: u32,
    now: DateTime<Utc>,
) -> AppResult<Vec<Application>> {
    let scope = scope(caller, now)?;
    applications::list(conn, scope, filter, after, limit).await
}

/// One application with its history and the moves open to the caller (not found when the caller may not see it).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn get(conn: &mut Conn, caller: &Principal, id: Uuid, now: DateTime<Utc>) -> AppResult<ApplicationDetail> {
    let scope = scope(caller, now)?;
    let actor = actor(caller)?;
    let a = applications::get_scoped(conn, id, scope).await?.ok_or(AppError::not_found("application"))?;
    detail(conn, a, actor).await
}

/// Moves an application (see `POST /v1/applications/{id}/transitions`); the firm's contact is mailed.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn transition(
    conn: &mut Conn,
    caller: &Principal,
    organizer: &Party,
    id: Uuid,
    draft: &StatusChangeDraft,
    now: DateTime<Utc>,
) -> AppResult<ApplicationDetail> {
    let actor = actor(caller)?;
    let scope = scope(caller, now)?;
    let a = applications::get_scoped(conn, id, scope).await?.ok_or(AppError::not_found("application"))?;
    let product = products::get(conn, a.product_id).await?.ok_or(AppError::not_found("product"))?;
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
    if !applications::apply_change(conn, id, a.status, &change, now).await? {
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
    applications::add_history(conn, id, Some(a.status), to, caller, detail_json, remark.as_deref(), now).await?;
    events::record(
        conn,
        NewEvent::fact(
            if to == ApplicationStatus::Withdrawn {
                EventKind::ApplicationWithdrawn
            } else {
                EventKind::ApplicationStatusChanged
            },
            Some(a.firm_id),
            Some(a.bank_id),
            format!("application:{id}:{to}"),
            json!({ "application_id": id, "firm_id": a.firm_id, "product_id": a.product_id,
                "from": a.status, "to": to, "actor": actor }),
        ),
        now,
    )
    .await?;
    notify_firm(conn, organizer, &a, &product.name, to, remark.clone(), now).await?;
    let updated = applications::get(conn, id).await?.ok_or(AppError::not_found("application"))?;
    let out = detail(conn, updated, actor).await?;
    tracing::info!(application_id = %id, from = %a.status, to = %to, "application moved");
    Ok(out)
}

/// Queues the mail to the firm's contact about its application's new state (same transaction).
/// A firm without a usable contact address is skipped, not failed: the change itself stands.
async fn notify_firm(
    conn: &mut Conn,
    organizer: &Party,
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
        context: MailContext::notice(
            crate::mail::ics::Party { name: firm.contact_name.unwrap_or(firm.name), email },
            organizer.clone(),
            now,
        ),
    };
    crate::mail::outbox::enqueue(conn, &request, now).await?;
    Ok(())
}
