//! Roadshow pages for fund managers (the office uses the same calendar and roadshow page, with
//! its own controls): the calendar with filters, a roadshow with its presenting firms,
//! registering attendees, my registrations with cancel, the `.ics` file, investment intentions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::form::Form;
use super::session::Viewer;
use super::{Ctx, FormErrors, answer, render, render_status, see_other};
use crate::domain::access::Role;
use crate::domain::investment::{Investment, InvestmentInput, InvestmentRound};
use crate::domain::roadshow::{Centre, Presenter, Registration, RegistrationInput, Roadshow, RoadshowStatus};
use crate::error::AppResult;
use crate::service;
use crate::service::investments::InvestmentFilter;
use crate::service::roadshows::{Letterhead, RoadshowSearch};
use crate::web::AppState;
use crate::web::query::Query;

/// Calendar filters as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct CalendarQuery {
    pub centre: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub industry: Option<String>,
}

impl CalendarQuery {
    pub fn search(&self) -> RoadshowSearch {
        RoadshowSearch {
            centre: self.centre.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            industry: self.industry.clone(),
            status: None,
        }
    }

    pub fn centre_is(&self, c: &Centre) -> bool {
        self.centre.as_deref() == Some(c.as_str())
    }
}

#[derive(Template)]
#[template(path = "roadshow_calendar.html")]
struct CalendarPage {
    ctx: Ctx,
    q: CalendarQuery,
    centres: &'static [Centre],
    roadshows: Vec<Roadshow>,
    public: bool,
}

/// How many roadshows one calendar page lists.
pub const CALENDAR_SIZE: u32 = 200;

pub async fn calendar(v: Viewer, state: web::Data<AppState>, q: Query<CalendarQuery>) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let mut conn = state.db.pool().acquire().await?;
    let roadshows =
        service::roadshows::list_roadshows(&mut conn, Some(v.principal()), &q.search(), None, CALENDAR_SIZE).await?;
    render(&CalendarPage { ctx: Ctx::from(&v), q, centres: Centre::ALL, roadshows, public: false })
}

/// The public list: published roadshows, no sign-in, nothing about firms.
pub async fn public_calendar(
    v: super::session::Visitor,
    state: web::Data<AppState>,
    q: Query<CalendarQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let mut conn = state.db.pool().acquire().await?;
    let roadshows = service::roadshows::list_roadshows(&mut conn, None, &q.search(), None, CALENDAR_SIZE).await?;
    render(&CalendarPage { ctx: Ctx::from(&v), q, centres: Centre::ALL, roadshows, public: true })
}

#[derive(Template)]
#[template(path = "roadshow.html")]
struct RoadshowPage {
    ctx: Ctx,
    rs: Roadshow,
    presenters: Vec<Presenter>,
    registrations: Vec<Registration>,
    can_register: bool,
    statuses: Vec<RoadshowStatus>,
    rounds: &'static [InvestmentRound],
    errors: FormErrors,
    posted: Option<Form>,
}

impl RoadshowPage {
    fn posted(&self, name: &str) -> String {
        self.posted.as_ref().and_then(|f| f.raw(name)).unwrap_or_default()
    }
}

async fn roadshow_page(
    state: &AppState,
    v: &Viewer,
    id: Uuid,
    errors: FormErrors,
    posted: Option<Form>,
) -> AppResult<RoadshowPage> {
    let mut conn = state.db.pool().acquire().await?;
    let p = v.principal();
    let rs = service::roadshows::visible_roadshow(&mut conn, p, id).await?;
    let presenters = service::roadshows::presenters(&mut conn, p, &rs).await?;
    let registrations = match p.role() {
        Role::Fund | Role::Admin => {
            service::roadshows::registrations_of(&mut conn, p, rs.id, None, None, None, 500).await?
        }
        _ => Vec::new(),
    };
    let statuses = if p.is_admin() { rs.status.allowed_next().to_vec() } else { Vec::new() };
    Ok(RoadshowPage {
        ctx: Ctx::from(v),
        can_register: p.role() == Role::Fund && rs.status == RoadshowStatus::Published,
        rs,
        presenters,
        registrations,
        statuses,
        rounds: InvestmentRound::ALL,
        errors,
        posted,
    })
}

pub async fn roadshow(v: Viewer, state: web::Data<AppState>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    render(&roadshow_page(&state, &v, id.into_inner(), FormErrors::default(), None).await?)
}

pub async fn register(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    mut form: Form,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let input = RegistrationInput {
        attendee_name: form.text("attendee_name"),
        attendee_email: form.text("attendee_email"),
        party_size: form.parse("party_size"),
        fund_id: None,
    };
    let now = state.clock.now();
    let lh = Letterhead::from_config(&state.config);
    let result = async {
        let mut tx = state.db.begin().await?;
        let reg = service::roadshows::register_as(&mut tx, &lh, id, &input, v.principal(), now).await?;
        tx.commit().await?;
        Ok(reg)
    }
    .await;
    let done = |reg: Registration| format!("/app/registrations?new={}", reg.id);
    answer(&form, result, done, async |errors| roadshow_page(&state, &v, id, errors, Some(form.clone())).await).await
}

pub async fn cancel(v: Viewer, state: web::Data<AppState>, path: web::Path<(Uuid, Uuid)>) -> AppResult<HttpResponse> {
    let (id, rid) = path.into_inner();
    let lh = Letterhead::from_config(&state.config);
    let mut tx = state.db.begin().await?;
    service::roadshows::cancel(&mut tx, &lh, id, rid, v.principal(), state.clock.now()).await?;
    tx.commit().await?;
    let back = if v.is_admin() { format!("/app/roadshows/{id}") } else { "/app/registrations".to_owned() };
    Ok(see_other(back))
}

#[derive(Template)]
#[template(path = "registrations.html")]
struct RegistrationsPage {
    ctx: Ctx,
    items: Vec<(Registration, Roadshow)>,
    new: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
}

impl RegistrationsPage {
    fn just_made(&self) -> Option<&Registration> {
        self.items.iter().map(|(r, _)| r).find(|r| Some(r.id) == self.new)
    }
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    new: Option<Uuid>,
}

pub async fn registrations(v: Viewer, state: web::Data<AppState>, q: Query<NewQuery>) -> AppResult<HttpResponse> {
    let mut conn = state.db.pool().acquire().await?;
    let items = service::roadshows::registrations_of_fund(&mut conn, v.principal(), 200).await?;
    render(&RegistrationsPage { ctx: Ctx::from(&v), items, new: q.new, now: state.clock.now() })
}

pub async fn calendar_ics(v: Viewer, state: web::Data<AppState>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let mut conn = state.db.pool().acquire().await?;
    let rs = service::roadshows::visible_roadshow(&mut conn, v.principal(), id.into_inner()).await?;
    let body = service::roadshows::calendar_ics(&mut conn, &Letterhead::from_config(&state.config), &rs).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"roadshow-{}.ics\"", rs.id)))
        .body(body))
}

#[derive(Template)]
#[template(path = "investments.html")]
struct InvestmentsPage {
    ctx: Ctx,
    items: Vec<(Investment, String)>,
}

pub async fn investments(v: Viewer, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let mut conn = state.db.pool().acquire().await?;
    let items =
        service::investments::list_named_as(&mut conn, v.principal(), InvestmentFilter::default(), None, 500).await?;
    render(&InvestmentsPage { ctx: Ctx::from(&v), items })
}

/// Records an intention from a roadshow page's presenter row.
pub async fn record_investment(v: Viewer, state: web::Data<AppState>, mut form: Form) -> AppResult<HttpResponse> {
    let roadshow_id: Option<Uuid> = form.parse("roadshow_id");
    let input = InvestmentInput {
        fund_id: None,
        firm_id: form.parse("firm_id"),
        roadshow_id,
        status: form.text("status"),
        amount: form.text("amount"),
        round: form.text("round"),
        decided_on: form.text("decided_on"),
        note: form.text("note"),
    };
    let now = state.clock.now();
    let result = async {
        let mut tx = state.db.begin().await?;
        let inv = service::investments::record_as(&mut tx, v.principal(), &input, now).await?;
        tx.commit().await?;
        Ok(inv)
    }
    .await;
    match (form.merge(result), roadshow_id) {
        (Ok(_), _) => Ok(see_other("/app/investments")),
        (Err(e), Some(rs)) => {
            let errors = form.errors_of(e)?;
            let page = roadshow_page(&state, &v, rs, errors, Some(form)).await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        (Err(e), None) => Err(e),
    }
}
