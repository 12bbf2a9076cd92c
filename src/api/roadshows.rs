//! Fund roadshows (齐鲁企舞): the office runs them, fund managers register, presenting firms see
//! their slots. Also the firm-side investor-visibility opt-in and a firm's roadshow slots.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::pagination::{Page, PageQuery, Paging, page, page_schema};
use super::problem::Problem;
use super::{AppState, idempotent, parse_json, query_vocab};
use crate::api::query::{Paged, Query};
use crate::domain::access::Role;
use crate::domain::ids::FirmId;
use crate::domain::roadshow::{
    CheckInRequest, Decision, InvestorVisibility, Presenter, Recommendation, Registration, RegistrationInput,
    RegistrationStatus, Roadshow, RoadshowInput, RoadshowStatus, SlotInput, StatusChange, VisibilityInput,
};
use crate::error::{AppError, AppResult};
use crate::service::roadshows::{self as service, Letterhead};
pub use crate::service::roadshows::{CheckInResult, FirmSlot, FirmSlots, MoneyCount, Outcome, StatusCount};

page_schema!(RoadshowPage = Roadshow);

page_schema!(RegistrationPage = Registration);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoadshowQuery {
    #[param(value_type = Option<crate::domain::roadshow::Centre>)]
    pub centre: Option<String>,
    /// Roadshows starting on or after this day (China Standard Time), `YYYY-MM-DD`.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Roadshows starting on or before this day (China Standard Time), `YYYY-MM-DD`.
    #[param(format = Date)]
    pub to: Option<String>,
    /// GB/T 4754 code or prefix: roadshows whose industry focus overlaps it, and those without a focus.
    pub industry: Option<String>,
    /// Default for fund and enterprise keys: `published`; the office sees every status by default.
    #[param(value_type = Option<RoadshowStatus>)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistrationQuery {
    /// Office only: one fund's registrations.
    pub fund_id: Option<Uuid>,
    #[param(value_type = Option<RegistrationStatus>)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationQuery {
    /// How many firms (default 20, at most 200).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recommendations {
    pub roadshow_id: Uuid,
    pub industry_focus: Vec<String>,
    /// Best fit first. Only reserve-pool firms that opted in to investor visibility and are not
    /// yet presenting. Score: industry match (25/35/40 by depth; 20 without a focus) + tier
    /// (little giant 30, provincial 20, innovative 10) + key reserve firm 15 + target venue
    /// (bse/star/chinext 15, neeq 8, regional board 4).
    pub items: Vec<Recommendation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PresenterList {
    pub roadshow_id: Uuid,
    pub items: Vec<Presenter>,
}

/// Create a roadshow (admin). It starts as a `draft`; publish it with `POST /v1/roadshows/{id}/status`.
#[utoipa::path(post, path = "/v1/roadshows", tag = "roadshows", request_body = RoadshowInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried create safe")),
    responses((status = 201, body = Roadshow), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn create_roadshow(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    idempotent(&state, &req, &caller, &body, || async {
        let input: RoadshowInput = parse_json(&req, &body)?;
        if input.change_note.is_some() {
            return Err(AppError::field("change_note", "invalid", "only for changes of an existing roadshow"));
        }
        let now = state.clock.now();
        let fields = input.validate_onto(None, now)?;
        let mut tx = state.db.begin().await?;
        let rs = service::create_roadshow(&mut tx, &fields, now).await?;
        tx.commit().await?;
        tracing::info!(roadshow_id = %rs.id, centre = %rs.centre, "roadshow created");
        Ok((StatusCode::CREATED, rs))
    })
    .await
}

/// List roadshows, filtered by centre, start date range and industry.
#[utoipa::path(get, path = "/v1/roadshows", tag = "roadshows", params(RoadshowQuery, PageQuery),
    responses((status = 200, body = RoadshowPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_roadshows(
    state: web::Data<AppState>,
    caller: Caller,
    q: Paged<RoadshowQuery>,
) -> AppResult<web::Json<Page<Roadshow>>> {
    let search = service::RoadshowSearch {
        centre: q.centre.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        industry: q.industry.clone(),
        status: q.status.clone(),
    };
    let Paging { limit, after } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = service::list_roadshows(&mut conn, Some(&caller), &search, after, limit + 1).await?;
    Ok(web::Json(page(rows, limit, |r| r.id)))
}

/// One roadshow.
#[utoipa::path(get, path = "/v1/roadshows/{id}", tag = "roadshows", params(("id" = Uuid, Path)),
    responses((status = 200, body = Roadshow), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_roadshow(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<Roadshow>> {
    let mut conn = state.db.pool().acquire().await?;
    service::visible_roadshow(&mut conn, &caller, id.into_inner()).await.map(web::Json)
}

/// Change a roadshow (admin). A change of title, centre, venue or time mails every confirmed
/// registration an updated invitation (same UID, higher SEQUENCE); more capacity promotes from the waitlist.
#[utoipa::path(patch, path = "/v1/roadshows/{id}", tag = "roadshows", params(("id" = Uuid, Path)), request_body = RoadshowInput,
    responses((status = 200, body = Roadshow), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Cancelled or completed; or capacity below the seats taken"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn patch_roadshow(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<Roadshow>> {
    caller.require_admin()?;
    let input: RoadshowInput = parse_json(&req, &body)?;
    let now = state.clock.now();
    let lh = Letterhead::from_config(&state.config);
    let mut tx = state.db.begin().await?;
    let rs = service::update_roadshow(&mut tx, &lh, id.into_inner(), &input, now).await?;
    tx.commit().await?;
    tracing::info!(roadshow_id = %rs.id, sequence = rs.sequence, "roadshow changed");
    Ok(web::Json(rs))
}

/// Publish, close, reopen, complete or cancel a roadshow (admin). Cancelling cancels every
/// registration and mails each a calendar cancellation (METHOD:CANCEL) with the reason.
#[utoipa::path(post, path = "/v1/roadshows/{id}/status", tag = "roadshows", params(("id" = Uuid, Path)), request_body = StatusChange,
    responses((status = 200, body = Roadshow), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "Not allowed from the current status; `allowed_next` lists what is"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn set_status(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<Roadshow>> {
    caller.require_admin()?;
    let input: StatusChange = parse_json(&req, &body)?;
    let mut e = crate::domain::validate::Errors::default();
    let to = e.vocab::<RoadshowStatus>("status", Some(&input.status));
    let reason = input.reason.as_deref().and_then(|r| e.text("reason", Some(r), 500));
    let to = e.finish(to)?.ok_or_else(|| AppError::field("status", "required", "is required"))?;
    let now = state.clock.now();
    let lh = Letterhead::from_config(&state.config);
    let mut tx = state.db.begin().await?;
    let rs = service::change_status(&mut tx, &lh, id.into_inner(), to, reason.as_deref(), now).await?;
    tx.commit().await?;
    tracing::info!(roadshow_id = %rs.id, status = %rs.status, "roadshow status changed");
    Ok(web::Json(rs))
}

/// The roadshow as an iCalendar feed (METHOD:PUBLISH, one VEVENT with the presenter schedule in
/// its description). The UID differs from the registration invitations' UIDs on purpose.
#[utoipa::path(get, path = "/v1/roadshows/{id}/calendar.ics", tag = "roadshows", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn calendar(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let mut conn = state.db.pool().acquire().await?;
    let rs = service::visible_roadshow(&mut conn, &caller, id.into_inner()).await?;
    let lh = Letterhead::from_config(&state.config);
    let body = service::calendar_ics(&mut conn, &lh, &rs).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Content-Disposition", format!("inline; filename=\"roadshow-{}.ics\"", rs.id)))
        .body(body))
}

/// Reserve-pool firms ranked as presenters for this roadshow (admin).
#[utoipa::path(get, path = "/v1/roadshows/{id}/recommended-firms", tag = "roadshows", params(("id" = Uuid, Path), RecommendationQuery),
    responses((status = 200, body = Recommendations), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn recommended_firms(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: Query<RecommendationQuery>,
) -> AppResult<web::Json<Recommendations>> {
    caller.require_admin()?;
    let limit = match q.limit {
        None => 20,
        Some(n @ 1..=200) => n as usize,
        Some(_) => return Err(AppError::field("limit", "out_of_range", "must be between 1 and 200")),
    };
    let mut conn = state.db.pool().acquire().await?;
    let (rs, items) = service::recommendations(&mut conn, id.into_inner(), limit).await?;
    Ok(web::Json(Recommendations { roadshow_id: rs.id, industry_focus: rs.industry_focus, items }))
}

/// Presenters and their slots: the office and funds see all; an enterprise sees only its own slot.
#[utoipa::path(get, path = "/v1/roadshows/{id}/presenters", tag = "roadshows", params(("id" = Uuid, Path)),
    responses((status = 200, body = PresenterList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_presenters(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<web::Json<PresenterList>> {
    let mut conn = state.db.pool().acquire().await?;
    let rs = service::visible_roadshow(&mut conn, &caller, id.into_inner()).await?;
    let items = service::presenters(&mut conn, &caller, &rs).await?;
    Ok(web::Json(PresenterList { roadshow_id: rs.id, items }))
}

/// Confirm a presenting firm with its slot, or move its slot (admin). The firm's contact gets a
/// calendar invitation (UID per slot, SEQUENCE raised on each move) once the roadshow is published.
#[utoipa::path(put, path = "/v1/roadshows/{id}/presenters/{firm_id}", tag = "roadshows",
    params(("id" = Uuid, Path), ("firm_id" = Uuid, Path)), request_body = SlotInput,
    responses((status = 201, body = Presenter, description = "Presenter added"), (status = 200, body = Presenter, description = "Slot unchanged or moved"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Overlaps another slot, or the roadshow can no longer change"), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_presenter(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, FirmId)>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let (id, firm_id) = path.into_inner();
    let input: SlotInput = parse_json(&req, &body)?;
    let now = state.clock.now();
    let lh = Letterhead::from_config(&state.config);
    let mut tx = state.db.begin().await?;
    let rs = service::get(&mut tx, id).await?;
    let slot = input.validate(&rs)?;
    let (p, created) = service::set_presenter(&mut tx, &lh, id, firm_id, slot, now).await?;
    tx.commit().await?;
    tracing::info!(roadshow_id = %id, firm_id = %firm_id, sequence = p.sequence, "presenter slot set");
    Ok(HttpResponse::build(if created { StatusCode::CREATED } else { StatusCode::OK }).json(p))
}

/// Remove a presenter (admin).
#[utoipa::path(delete, path = "/v1/roadshows/{id}/presenters/{firm_id}", tag = "roadshows",
    params(("id" = Uuid, Path), ("firm_id" = Uuid, Path)),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn delete_presenter(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, FirmId)>,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let (id, firm_id) = path.into_inner();
    service::remove_presenter(&state.db, id, firm_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Register for a roadshow (fund key; the office may register on a fund's behalf with `fund_id`).
/// Confirmed while seats remain, otherwise waitlisted with a position; pending approval on
/// roadshows with an approval step. A second active registration of the same e-mail is 409 and,
/// for the same fund, carries the existing one as `existing_registration`.
#[utoipa::path(post, path = "/v1/roadshows/{id}/registrations", tag = "registrations", params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried registration safe")),
    request_body = RegistrationInput,
    responses((status = 201, body = Registration), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`already_registered`, `registration_closed`, `registration_not_open`, `roadshow_not_open`"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn register(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    idempotent(&state, &req, &caller, &body, || async {
        let input: RegistrationInput = parse_json(&req, &body)?;
        let now = state.clock.now();
        let lh = Letterhead::from_config(&state.config);
        let mut tx = state.db.begin().await?;
        let reg = service::register_as(&mut tx, &lh, id, &input, &caller, now).await?;
        tx.commit().await?;
        tracing::info!(roadshow_id = %id, registration_id = %reg.id, status = %reg.status, "registration");
        Ok((StatusCode::CREATED, reg))
    })
    .await
}

/// Registrations of a roadshow: the office sees all, a fund its own.
#[utoipa::path(get, path = "/v1/roadshows/{id}/registrations", tag = "registrations", params(("id" = Uuid, Path), RegistrationQuery, PageQuery),
    responses((status = 200, body = RegistrationPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn list_registrations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: Paged<RegistrationQuery>,
) -> AppResult<web::Json<Page<Registration>>> {
    let status = query_vocab("status", q.status.as_deref())?;
    let Paging { limit, after } = q.paging()?;
    let mut conn = state.db.pool().acquire().await?;
    let rows =
        service::registrations_of(&mut conn, &caller, id.into_inner(), q.fund_id, status, after, limit + 1).await?;
    Ok(web::Json(page(rows, limit, |r| r.id)))
}

/// One registration (the office, or the fund that made it; others get 404).
#[utoipa::path(get, path = "/v1/roadshows/{id}/registrations/{rid}", tag = "registrations",
    params(("id" = Uuid, Path), ("rid" = Uuid, Path)),
    responses((status = 200, body = Registration), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_registration(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<web::Json<Registration>> {
    let (id, rid) = path.into_inner();
    if !matches!(caller.role(), Role::Admin | Role::Fund) {
        return Err(AppError::Forbidden(format!("a {} key cannot read registrations", caller.role())));
    }
    let mut conn = state.db.pool().acquire().await?;
    service::visible_registration(&mut conn, id, rid, &caller).await.map(web::Json)
}

/// Cancel a registration. A fund may cancel its own until the cancellation deadline (then 409
/// `cancellation_deadline_passed`); the office any until the roadshow ends. The freed seats go to
/// the waitlist in order, in the same transaction. Cancelling again answers the cancelled registration.
#[utoipa::path(delete, path = "/v1/roadshows/{id}/registrations/{rid}", tag = "registrations",
    params(("id" = Uuid, Path), ("rid" = Uuid, Path)),
    responses((status = 200, body = Registration), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("api_key" = [])))]
pub async fn cancel_registration(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<web::Json<Registration>> {
    let (id, rid) = path.into_inner();
    if !matches!(caller.role(), Role::Admin | Role::Fund) {
        return Err(AppError::Forbidden(format!("a {} key cannot cancel registrations", caller.role())));
    }
    let now = state.clock.now();
    let lh = Letterhead::from_config(&state.config);
    let mut tx = state.db.begin().await?;
    let reg = service::cancel(&mut tx, &lh, id, rid, &caller, now).await?;
    tx.commit().await?;
    tracing::info!(roadshow_id = %id, registration_id = %rid, "registration cancelled");
    Ok(web::Json(reg))
}

/// Approve or reject a registration that waits for approval (admin).
#[utoipa::path(post, path = "/v1/roadshows/{id}/registrations/{rid}/decision", tag = "registrations",
    params(("id" = Uuid, Path), ("rid" = Uuid, Path)), request_body = Decision,
    responses((status = 200, body = Registration), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
) -> AppResult<web::Json<Registration>> {
    caller.require_admin()?;
    let (id, rid) = path.into_inner();
    let input: Decision = parse_json(&req, &body)?;
    let approve = match input.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::field("decision", "unknown_value", "must be one of: approve, reject")),
    };
    let now = state.clock.now();
    let lh = Letterhead::from_config(&state.config);
    let mut tx = state.db.begin().await?;
    let reg = service::decide(&mut tx, &lh, id, rid, approve, &caller, now).await?;
    tx.commit().await?;
    Ok(web::Json(reg))
}

/// Check a registration in at the door by its token (admin). Idempotent: checking in again
/// answers 200 with `first_check_in: false`. Cancelled, waitlisted, pending or rejected
/// registrations are refused with 409 and a reason code; every attempt is logged.
#[utoipa::path(post, path = "/v1/roadshows/{id}/check-in", tag = "registrations", params(("id" = Uuid, Path)),
    request_body = CheckInRequest,
    responses((status = 200, body = CheckInResult), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "Unknown token"),
        (status = 409, body = Problem, description = "`registration_cancelled`, `registration_waitlisted`, `registration_pending_approval`, `registration_rejected`"),
        (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn check_in(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<web::Json<CheckInResult>> {
    caller.require_admin()?;
    let id = id.into_inner();
    let input: CheckInRequest = parse_json(&req, &body)?;
    let now = state.clock.now();
    Ok(web::Json(service::check_in(&state.db, &caller, id, &input.token, now).await?))
}

/// What came of a roadshow: registrations by status, attendance, presenters, investments (admin).
#[utoipa::path(get, path = "/v1/roadshows/{id}/outcome", tag = "roadshows", params(("id" = Uuid, Path)),
    responses((status = 200, body = Outcome), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn outcome(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> AppResult<web::Json<Outcome>> {
    caller.require_admin()?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(service::outcome(&mut conn, id.into_inner()).await?))
}

/// A firm's presenter slots with their roadshows (the firm's enterprise key, or admin).
#[utoipa::path(get, path = "/v1/firms/{id}/roadshow-slots", tag = "roadshows", params(("id" = Uuid, Path)),
    responses((status = 200, body = FirmSlots), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn firm_slots(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
) -> AppResult<web::Json<FirmSlots>> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(service::firm_slots(&mut conn, &caller, id.into_inner()).await?))
}

/// Whether the firm has opted in to being shown to fund managers (the firm's key, or admin).
#[utoipa::path(get, path = "/v1/firms/{id}/investor-visibility", tag = "roadshows", params(("id" = Uuid, Path)),
    responses((status = 200, body = InvestorVisibility), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = [])))]
pub async fn get_visibility(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FirmId>,
) -> AppResult<web::Json<InvestorVisibility>> {
    let id = id.into_inner();
    caller.require_firm(id)?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(web::Json(service::investor_visibility(&mut conn, id).await?))
}

/// Opt in to (or out of) being shown to fund managers: only opted-in reserve-pool firms are
/// recommended as roadshow presenters. Off until the firm turns it on.
#[utoipa::path(put, path = "/v1/firms/{id}/investor-visibility", tag = "roadshows", params(("id" = Uuid, Path)),
    request_body = VisibilityInput,
    responses((status = 200, body = InvestorVisibility), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn put_visibility(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<FirmId>,
    body: web::Bytes,
) -> AppResult<web::Json<InvestorVisibility>> {
    let id = id.into_inner();
    caller.require_firm(id)?;
    let input: VisibilityInput = parse_json(&req, &body)?;
    let v = service::set_investor_visibility(&state.db, id, input.visible, caller.key_id, state.clock.now()).await?;
    Ok(web::Json(v))
}
