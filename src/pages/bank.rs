//! A bank's pages (the office sees the same with every bank's data): matched firms with the
//! pull's filters, paging and CSV; the applications queue with the allowed moves as buttons; an
//! application's page; webhook endpoints with the attempt log, test ping and secret rotation.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::form::Form;
use super::session::Viewer;
use super::{Ctx, FormErrors, answer, render, see_other};
use crate::domain::application::{ApplicationStatus, DeclineReason, StatusChangeDraft, allowed_next};
use crate::domain::firm::{City, Tier, Venue};
use crate::error::AppResult;
use crate::service;
use crate::service::applications::ApplicationDetail;
use crate::service::applications::{AppFilter, Application};
use crate::service::matches::{MatchPage, MatchQuery};
use crate::service::webhooks::Endpoint;
use crate::service::webhooks::{Attempt, RotatedSecret};
use crate::web::AppState;
use crate::web::query::Query;

#[derive(Template)]
#[template(path = "bank_matches.html")]
struct MatchesPage {
    ctx: Ctx,
    q: MatchQuery,
    page: MatchPage,
    cities: &'static [City],
    tiers: &'static [Tier],
    venues: &'static [Venue],
    /// The query string of this list without the cursor (for the CSV link and the next page).
    query: String,
}

impl MatchesPage {
    fn is(&self, have: &Option<String>, value: &str) -> bool {
        have.as_deref() == Some(value)
    }

    fn flag(&self, have: &Option<bool>, value: &str) -> bool {
        have.map(|b| b.to_string()).as_deref() == Some(value)
    }

    fn next_url(&self) -> Option<String> {
        let cursor = self.page.next_cursor.as_ref()?;
        let sep = if self.query.is_empty() { "" } else { "&" };
        Some(format!("/app/matches?{}{sep}cursor={cursor}", self.query))
    }
}

/// The list's filters as a query string, without the paging cursor.
fn filter_query(q: &MatchQuery) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    let mut add = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            s.append_pair(k, &v);
        }
    };
    add("min_score", q.min_score.map(|v| v.to_string()));
    add("city", q.city.clone());
    add("tier", q.tier.clone());
    add("venue", q.venue.clone());
    add("lead_bank", q.lead_bank.map(|v| v.to_string()));
    add("tutoring", q.tutoring.map(|v| v.to_string()));
    add("product_id", q.product_id.map(|v| v.to_string()));
    s.finish()
}

/// Page forms send empty fields for "any"; the pull takes their absence.
#[derive(Debug, Default, Deserialize)]
pub struct MatchForm {
    min_score: Option<String>,
    city: Option<String>,
    tier: Option<String>,
    venue: Option<String>,
    lead_bank: Option<String>,
    tutoring: Option<String>,
    product_id: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

impl MatchForm {
    fn query(self) -> MatchQuery {
        let some = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        MatchQuery {
            product_id: some(self.product_id).and_then(|s| s.parse().ok()),
            min_score: some(self.min_score).and_then(|s| s.parse().ok()),
            city: some(self.city),
            tier: some(self.tier),
            venue: some(self.venue),
            lead_bank: some(self.lead_bank).and_then(|s| s.parse().ok()),
            tutoring: some(self.tutoring).and_then(|s| s.parse().ok()),
            updated_since: None,
            bank_id: None,
            limit: Some(self.limit.unwrap_or(50)),
            cursor: some(self.cursor),
        }
    }
}

pub async fn matches(v: Viewer, state: web::Data<AppState>, q: Query<MatchForm>) -> AppResult<HttpResponse> {
    let q = q.into_inner().query();
    let mut conn = state.db.pool().acquire().await?;
    let page = service::matches::pull(&mut conn, v.principal(), &q, state.clock.now()).await?;
    let query = filter_query(&q);
    render(&MatchesPage { ctx: Ctx::from(&v), q, page, cities: City::ALL, tiers: Tier::ALL, venues: Venue::ALL, query })
}

pub async fn matches_csv(v: Viewer, state: web::Data<AppState>, q: Query<MatchForm>) -> AppResult<HttpResponse> {
    let mut q = q.into_inner().query();
    q.cursor = None;
    let mut conn = state.db.pool().acquire().await?;
    let (body, _) = service::matches::pull_csv(&mut conn, v.principal(), &q, state.clock.now()).await?;
    Ok(crate::web::csv_response("matches.csv", body))
}

#[derive(Template)]
#[template(path = "bank_applications.html")]
struct ApplicationsPage {
    ctx: Ctx,
    items: Vec<QueueRow>,
    statuses: &'static [ApplicationStatus],
    status: Option<String>,
}

/// An application in the queue with the moves the reader may make.
struct QueueRow {
    app: Application,
    next: Vec<ApplicationStatus>,
}

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
}

pub async fn applications(v: Viewer, state: web::Data<AppState>, q: Query<QueueQuery>) -> AppResult<HttpResponse> {
    let status = q.status.clone().filter(|s| !s.is_empty());
    let filter = AppFilter {
        status: crate::service::paging::query_vocab("status", status.as_deref())?,
        product_id: None,
        firm_id: None,
    };
    let mut conn = state.db.pool().acquire().await?;
    let rows = service::applications::list(&mut conn, v.principal(), &filter, None, 500, state.clock.now()).await?;
    let actor = service::applications::actor(v.principal())?;
    let items = rows.into_iter().map(|app| QueueRow { next: allowed_next(app.status, actor), app }).collect();
    render(&ApplicationsPage { ctx: Ctx::from(&v), items, statuses: ApplicationStatus::ALL, status })
}

#[derive(Template)]
#[template(path = "application.html")]
struct ApplicationPage {
    ctx: Ctx,
    detail: ApplicationDetail,
    decline_reasons: &'static [DeclineReason],
    errors: FormErrors,
}

async fn application_page(state: &AppState, v: &Viewer, id: Uuid, errors: FormErrors) -> AppResult<ApplicationPage> {
    let mut conn = state.db.pool().acquire().await?;
    let detail = service::applications::get(&mut conn, v.principal(), id, state.clock.now()).await?;
    Ok(ApplicationPage { ctx: Ctx::from(v), detail, decline_reasons: DeclineReason::ALL, errors })
}

pub async fn application(v: Viewer, state: web::Data<AppState>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    render(&application_page(&state, &v, id.into_inner(), FormErrors::default()).await?)
}

/// One move of an application, from a button (and its fields) on the queue or the application page.
pub async fn transition(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    mut form: Form,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let draft = StatusChangeDraft {
        status: form.parse("status"),
        reason_code: form.parse("reason_code"),
        reason_text: form.text("reason_text"),
        approved_amount: form.decimal("approved_amount"),
        approved_term_months: form.parse("approved_term_months"),
        approved_rate: form.decimal("approved_rate"),
        approved_on: form.parse("approved_on"),
        disbursed_amount: form.decimal("disbursed_amount"),
        disbursed_on: form.parse("disbursed_on"),
        remark: form.text("remark"),
    };
    let now = state.clock.now();
    let organizer = crate::service::mail_organizer(&state.config);
    let result = async {
        let mut tx = state.db.begin().await?;
        let out = service::applications::transition(&mut tx, v.principal(), &organizer, id, &draft, now).await?;
        tx.commit().await?;
        Ok(out)
    }
    .await;
    let back = form.text("back").and_then(|b| super::session::local_path(Some(&b)));
    let done = |_| back.unwrap_or_else(|| format!("/app/applications/{id}"));
    answer(&form, result, done, async |errors| application_page(&state, &v, id, errors).await).await
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    ctx: Ctx,
    endpoints: Vec<Endpoint>,
}

pub async fn webhooks(v: Viewer, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let mut conn = state.db.pool().acquire().await?;
    let endpoints = service::webhooks::list_endpoints(&mut conn, v.principal(), None, None, 500).await?;
    render(&WebhooksPage { ctx: Ctx::from(&v), endpoints })
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    ctx: Ctx,
    endpoint: Endpoint,
    attempts: Vec<Attempt>,
    rotated: Option<RotatedSecret>,
    tested: bool,
}

#[derive(Debug, Deserialize)]
pub struct TestedQuery {
    tested: Option<String>,
}

async fn webhook_page(
    state: &AppState,
    v: &Viewer,
    id: Uuid,
    rotated: Option<RotatedSecret>,
    tested: bool,
) -> AppResult<WebhookPage> {
    let mut conn = state.db.pool().acquire().await?;
    let endpoint = service::webhooks::owned(&mut conn, v.principal(), id).await?;
    let attempts = service::webhooks::attempts(&mut conn, v.principal(), id, None, 100).await?;
    Ok(WebhookPage { ctx: Ctx::from(v), endpoint, attempts, rotated, tested })
}

pub async fn webhook(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    q: Query<TestedQuery>,
) -> AppResult<HttpResponse> {
    render(&webhook_page(&state, &v, id.into_inner(), None, q.tested.is_some()).await?)
}

pub async fn test_webhook(v: Viewer, state: web::Data<AppState>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    service::webhooks::test_endpoint(&state.db, v.principal(), id, state.clock.now()).await?;
    Ok(see_other(format!("/app/webhooks/{id}?tested=1")))
}

/// The new secret is shown on this answer only (no redirect: it is never stored readable).
pub async fn rotate_secret(v: Viewer, state: web::Data<AppState>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let rotated =
        service::webhooks::rotate_secret(&state.db, &state.config, v.principal(), id, state.clock.now()).await?;
    render(&webhook_page(&state, &v, id, Some(rotated), false).await?)
}
