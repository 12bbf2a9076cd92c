//! The office's pages: the programme dashboard (each 2025 target beside its actual, as charts
//! with their tables), the reserve pool with CSV export, the import upload with its per-row
//! report, and roadshow management (create, status, check-in).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Datelike;
use futures_util::StreamExt as _;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use uuid::Uuid;

use super::charts::{Bar, BarChart, fraction};
use super::form::Form;
use super::session::Viewer;
use super::{Ctx, FormErrors, answer, render, render_status, see_other};
use crate::domain::firm::{City, Tier, Venue};
use crate::domain::pool::PoolEntry;
use crate::domain::programme::TargetResult;
use crate::domain::roadshow::{Centre, Registration, Roadshow, RoadshowInput, RoadshowStatus};
use crate::error::{AppError, AppResult};
use crate::service;
use crate::service::import::ImportReport;
use crate::service::pool::PoolFilter;
use crate::service::roadshows::Letterhead;
use crate::service::stats::ProgrammeStats;
use crate::web::AppState;
use crate::web::query::Query;

#[derive(Template)]
#[template(path = "office_dashboard.html")]
struct DashboardPage {
    ctx: Ctx,
    stats: ProgrammeStats,
    charts: Vec<BarChart>,
}

#[derive(Debug, Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

/// A target's progress as a bar: the actual against the target, each on the bar's own scale
/// (the targets count firms, yuan and percentages, so only progress is comparable between them).
fn target_bar(ctx: &Ctx, t: &TargetResult) -> Option<Bar> {
    let (metric, target, actual) = (t.metric?, t.target?, t.actual?);
    let (a, tg) = (actual.to_f64().unwrap_or(0.0), target.to_f64().unwrap_or(0.0));
    let scale = tg.max(a) * 1.1;
    let unit = ctx.t(&format!("unit.{}", t.unit));
    Some(Bar {
        label: ctx.v(metric).to_owned(),
        value_text: format!("{} / {} {unit}", actual.round_dp(1).normalize(), target.normalize()),
        fraction: fraction(a, scale),
        target_fraction: Some(fraction(tg, scale)),
        target_text: format!("{} {unit}", target.normalize()),
    })
}

fn count_chart(id: &'static str, title: String, columns: [String; 3], rows: Vec<(String, i64)>) -> BarChart {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0) as f64;
    BarChart {
        id,
        title,
        bars: rows
            .into_iter()
            .map(|(label, v)| Bar {
                label,
                value_text: v.to_string(),
                fraction: fraction(v as f64, max),
                target_fraction: None,
                target_text: String::new(),
            })
            .collect(),
        columns,
    }
}

fn charts(ctx: &Ctx, s: &ProgrammeStats) -> Vec<BarChart> {
    let cols = |v: &str, tg: &str| [ctx.t("chart.item").to_owned(), ctx.t(v).to_owned(), ctx.t(tg).to_owned()];
    let targets = BarChart {
        id: "targets",
        title: ctx.t("dashboard.targets_chart").to_owned(),
        bars: s.targets.iter().filter_map(|t| target_bar(ctx, t)).collect(),
        columns: cols("chart.actual", "chart.target"),
    };
    let by_city = count_chart(
        "by-city",
        ctx.t("dashboard.by_city").to_owned(),
        cols("dashboard.pool_firms", "chart.target"),
        s.by_city
            .iter()
            .map(|c| (c.city.map(|c| ctx.v(c)).unwrap_or_else(|| ctx.t("common.unknown")).to_owned(), c.pool_firms))
            .collect(),
    );
    let by_venue = count_chart(
        "by-venue",
        ctx.t("dashboard.by_venue").to_owned(),
        cols("dashboard.pool_firms", "chart.target"),
        s.by_venue.iter().map(|v| (ctx.v(v.venue).to_owned(), v.pool_firms)).collect(),
    );
    let mut stage_rows = Vec::new();
    for v in &s.by_venue {
        for st in &v.stages {
            stage_rows.push((format!("{} · {}", ctx.v(v.venue), ctx.v(st.stage)), st.firms));
        }
    }
    let by_stage = count_chart(
        "by-stage",
        ctx.t("dashboard.by_stage").to_owned(),
        cols("dashboard.firms", "chart.target"),
        stage_rows,
    );
    let by_tier = count_chart(
        "by-tier",
        ctx.t("dashboard.by_tier").to_owned(),
        cols("dashboard.firms", "chart.target"),
        s.by_tier
            .iter()
            .map(|t| (t.tier.map(|t| ctx.v(t)).unwrap_or_else(|| ctx.t("dashboard.no_tier")).to_owned(), t.firms))
            .collect(),
    );
    vec![targets, by_city, by_venue, by_stage, by_tier]
}

/// How long the dashboard shows figures it computed before computing them again.
const DASHBOARD_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// Programme statistics per year with the instant they were computed, shared by every worker.
#[derive(Debug, Clone, Default)]
pub struct DashboardCache(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i32, (std::time::Instant, ProgrammeStats)>>>,
);

impl DashboardCache {
    fn fresh(&self, year: i32) -> Option<ProgrammeStats> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&year).filter(|(at, _)| at.elapsed() < DASHBOARD_FRESH_FOR).map(|(_, s)| s.clone())
    }

    fn keep(&self, year: i32, stats: &ProgrammeStats) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(year, (std::time::Instant::now(), stats.clone()));
    }
}

pub async fn dashboard(
    v: Viewer,
    state: web::Data<AppState>,
    pages: web::Data<super::PageState>,
    q: Query<YearQuery>,
) -> AppResult<HttpResponse> {
    // The office's figures: anyone else is refused before a kept copy is looked at.
    v.principal().require_admin()?;
    let year = q.year.unwrap_or_else(|| state.clock.today().year());
    let stats = match pages.dashboard.fresh(year) {
        Some(stats) => stats,
        None => {
            let mut conn = state.db.pool().acquire().await?;
            let stats = service::stats::programme_as(&mut conn, v.principal(), year).await?;
            pages.dashboard.keep(year, &stats);
            stats
        }
    };
    let ctx = Ctx::from(&v);
    let charts = charts(&ctx, &stats);
    render(&DashboardPage { ctx, stats, charts })
}

#[derive(Debug, Default, Deserialize)]
pub struct PoolQuery {
    venue: Option<String>,
    city: Option<String>,
    tier: Option<String>,
    cursor: Option<String>,
}

impl PoolQuery {
    fn filter(&self) -> AppResult<PoolFilter> {
        use crate::service::paging::query_vocab;
        Ok(PoolFilter {
            venue: query_vocab("venue", self.venue.as_deref())?,
            city: query_vocab("city", self.city.as_deref())?,
            tier: query_vocab("tier", self.tier.as_deref())?,
            key_firm: None,
        })
    }

    fn query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("venue", &self.venue), ("city", &self.city), ("tier", &self.tier)] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

#[derive(Template)]
#[template(path = "office_pool.html")]
struct PoolPage {
    ctx: Ctx,
    q: PoolQuery,
    items: Vec<PoolEntry>,
    next: Option<String>,
    cities: &'static [City],
    tiers: &'static [Tier],
    venues: &'static [Venue],
}

impl PoolPage {
    fn is(&self, have: &Option<String>, value: &str) -> bool {
        have.as_deref() == Some(value)
    }
}

/// Rows of one pool page.
const POOL_PAGE: u32 = 100;

pub async fn pool(v: Viewer, state: web::Data<AppState>, q: Query<PoolQuery>) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let filter = q.filter()?;
    let after = service::paging::decode_cursor(q.cursor.as_deref())?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = service::pool::list(&mut conn, v.principal(), &filter, after, POOL_PAGE + 1).await?;
    let page = service::paging::page(rows, POOL_PAGE, |e| e.firm_id);
    let next = page.next_cursor.map(|c| {
        let query = q.query();
        format!("/app/pool?{query}{}cursor={c}", if query.is_empty() { "" } else { "&" })
    });
    render(&PoolPage {
        ctx: Ctx::from(&v),
        q,
        items: page.items,
        next,
        cities: City::ALL,
        tiers: Tier::ALL,
        venues: Venue::ALL,
    })
}

pub async fn pool_csv(v: Viewer, state: web::Data<AppState>, q: Query<PoolQuery>) -> AppResult<HttpResponse> {
    let filter = q.filter()?;
    let mut conn = state.db.pool().acquire().await?;
    let body = service::pool::csv(&mut conn, v.principal(), &filter, None).await?;
    Ok(crate::web::csv_response("reserve-pool.csv", body))
}

#[derive(Template)]
#[template(path = "office_import.html")]
struct ImportPage {
    ctx: Ctx,
    report: Option<ImportReport>,
    problem: Option<String>,
}

pub async fn import_page(v: Viewer) -> AppResult<HttpResponse> {
    v.require_admin()?;
    render(&ImportPage { ctx: Ctx::from(&v), report: None, problem: None })
}

/// The uploaded file and the dry-run switch of the import form.
async fn read_upload(mut parts: actix_multipart::Multipart) -> AppResult<(String, Vec<u8>, bool)> {
    let bad = |_| AppError::bad_request("invalid_upload", "the upload could not be read");
    let (mut content_type, mut bytes, mut dry_run) = (String::from("text/csv"), Vec::new(), false);
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(bad)?;
        let name = field.name().unwrap_or("").to_owned();
        let is_json = field.content_disposition().and_then(|d| d.get_filename()).is_some_and(|f| f.ends_with(".json"));
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            value.extend_from_slice(&chunk.map_err(bad)?);
        }
        match name.as_str() {
            "file" => {
                if is_json {
                    content_type = "application/json".into();
                }
                bytes = value;
            }
            "dry_run" => dry_run = !value.is_empty(),
            _ => {}
        }
    }
    Ok((content_type, bytes, dry_run))
}

pub async fn import(
    v: Viewer,
    state: web::Data<AppState>,
    parts: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    v.require_admin()?;
    let (content_type, bytes, dry_run) = read_upload(parts).await?;
    let outcome = service::import::run_as(
        &state.db,
        v.principal(),
        &content_type,
        &bytes,
        service::import::ImportMode { dry_run, atomic: false },
        state.clock.now(),
    )
    .await;
    let ctx = Ctx::from(&v);
    match outcome {
        Ok(report) => {
            let status = if report.rejected > 0 { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            render_status(status, &ImportPage { ctx, report: Some(report), problem: None })
        }
        Err(e @ (AppError::BadRequest { .. } | AppError::Validation(_) | AppError::UnsupportedMediaType(_))) => {
            let problem = e.to_problem();
            let detail = match problem.errors {
                Some(list) => list.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
                None => problem.detail,
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &ImportPage { ctx, report: None, problem: Some(detail) })
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "office_roadshow_new.html")]
struct NewRoadshowPage {
    ctx: Ctx,
    centres: &'static [Centre],
    errors: FormErrors,
    form: Form,
}

impl NewRoadshowPage {
    fn value(&self, name: &str) -> String {
        self.form.raw(name).unwrap_or_default()
    }

    fn error(&self, name: &str) -> Option<String> {
        self.errors.of(name)
    }
}

pub async fn new_roadshow(v: Viewer) -> AppResult<HttpResponse> {
    v.require_admin()?;
    render(&NewRoadshowPage {
        ctx: Ctx::from(&v),
        centres: Centre::ALL,
        errors: FormErrors::default(),
        form: Form::default(),
    })
}

/// `2025-06-12T09:30` from a `datetime-local` input is a time in China: `2025-06-12T09:30:00+08:00`.
fn local_time(form: &Form, name: &str) -> Option<String> {
    form.text(name).map(|t| if t.len() == 16 { format!("{t}:00+08:00") } else { t })
}

pub async fn create_roadshow(v: Viewer, state: web::Data<AppState>, mut form: Form) -> AppResult<HttpResponse> {
    let input = RoadshowInput {
        title: form.text("title"),
        centre: form.text("centre"),
        venue: form.text("venue"),
        starts_at: local_time(&form, "starts_at"),
        ends_at: local_time(&form, "ends_at"),
        registration_opens_at: None,
        registration_closes_at: local_time(&form, "registration_closes_at"),
        cancellation_deadline: local_time(&form, "cancellation_deadline"),
        capacity: form.parse("capacity"),
        industry_focus: form
            .text("industry_focus")
            .map(|s| s.split([',', '，', ' ']).map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect()),
        requires_approval: Some(form.checked("requires_approval")),
        change_note: None,
    };
    let now = state.clock.now();
    let result = async {
        v.require_admin()?;
        let fields = input.validate_onto(None, now)?;
        let mut tx = state.db.begin().await?;
        let rs = service::roadshows::create_roadshow(&mut tx, &fields, now).await?;
        tx.commit().await?;
        Ok(rs)
    }
    .await;
    let done = |rs: Roadshow| format!("/app/roadshows/{}", rs.id);
    answer(&form, result, done, async |errors| {
        Ok(NewRoadshowPage { ctx: Ctx::from(&v), centres: Centre::ALL, errors, form: form.clone() })
    })
    .await
}

pub async fn set_roadshow_status(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    mut form: Form,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    v.require_admin()?;
    let to: RoadshowStatus =
        form.parse("status").ok_or_else(|| AppError::field("status", "required", "is required"))?;
    form.merge(Ok(()))?;
    let reason = form.text("reason");
    let lh = Letterhead::from_config(&state.config);
    let mut tx = state.db.begin().await?;
    service::roadshows::change_status(&mut tx, &lh, id, to, reason.as_deref(), state.clock.now()).await?;
    tx.commit().await?;
    Ok(see_other(format!("/app/roadshows/{id}")))
}

#[derive(Template)]
#[template(path = "office_checkin.html")]
struct CheckInPage {
    ctx: Ctx,
    rs: Roadshow,
    registrations: Vec<Registration>,
    checked: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
pub struct CheckedQuery {
    checked: Option<Uuid>,
}

pub async fn check_in_list(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    q: Query<CheckedQuery>,
) -> AppResult<HttpResponse> {
    v.require_admin()?;
    let mut conn = state.db.pool().acquire().await?;
    let rs = service::roadshows::visible_roadshow(&mut conn, v.principal(), id.into_inner()).await?;
    let registrations =
        service::roadshows::registrations_of(&mut conn, v.principal(), rs.id, None, None, None, 500).await?;
    render(&CheckInPage { ctx: Ctx::from(&v), rs, registrations, checked: q.checked })
}

pub async fn check_in(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    form: Form,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let token = form.text("token").unwrap_or_default();
    let result = service::roadshows::check_in(&state.db, v.principal(), id, &token, state.clock.now()).await?;
    Ok(see_other(format!("/app/roadshows/{id}/check-in?checked={}", result.registration.id)))
}
