//! Reading, and the caller-facing steps the API and the pages share: each checks what the caller
//! may see or do, then runs the use case of the parent module.

use super::*;

#[derive(Debug, Serialize, ToSchema)]
pub struct FirmSlot {
    pub roadshow: Roadshow,
    pub slot: Presenter,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FirmSlots {
    #[schema(value_type = Uuid)]
    pub firm_id: FirmId,
    pub items: Vec<FirmSlot>,
}

/// Roadshows are for the office, funds and enterprises.
fn require_roadshow_reader(caller: &Principal) -> AppResult<()> {
    match caller.role() {
        Role::Admin | Role::Fund | Role::Enterprise => Ok(()),
        role => Err(AppError::Forbidden(format!("a {role} key cannot read roadshows"))),
    }
}

/// The roadshow if the caller may see it (drafts are the office's alone; to others they do not exist).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, id = %id))]
pub async fn visible_roadshow(conn: &mut Conn, caller: &Principal, id: Uuid) -> AppResult<Roadshow> {
    require_roadshow_reader(caller)?;
    match roadshows::get(conn, id).await? {
        Some(rs) if caller.is_admin() || rs.status.public() => Ok(rs),
        _ => Err(AppError::not_found("roadshow")),
    }
}

fn cst_day_start(field: &str, value: &str) -> AppResult<DateTime<Utc>> {
    let d = crate::domain::validate::parse_day(value)
        .ok_or_else(|| AppError::field(field, "invalid", format!("{value:?} is not a date (YYYY-MM-DD)")))?;
    let cst = FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("UTC+8"))?;
    let local = d.and_hms_opt(0, 0, 0).ok_or_else(|| anyhow::anyhow!("midnight"))?;
    cst.from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::field(field, "invalid", "not a day"))
}

/// Roadshow search as people type it (dates `YYYY-MM-DD` in China Standard Time).
#[derive(Debug, Clone, Default)]
pub struct RoadshowSearch {
    pub centre: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub industry: Option<String>,
    pub status: Option<String>,
}

/// Roadshows a reader may list: the office every status (by default), funds and enterprises the
/// published ones; `None` is the public, who see published roadshows only.
#[tracing::instrument(skip_all)]
pub async fn list_roadshows(
    conn: &mut Conn,
    caller: Option<&Principal>,
    q: &RoadshowSearch,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Roadshow>> {
    if let Some(c) = caller {
        require_roadshow_reader(c)?;
    }
    let is_admin = caller.is_some_and(|c| c.is_admin());
    let status: Option<RoadshowStatus> = query_vocab("status", q.status.as_deref())?;
    let statuses = match (status, is_admin) {
        (Some(RoadshowStatus::Draft), false) => return Ok(Vec::new()),
        (Some(s), true) => vec![s],
        (Some(s), false) if caller.is_some() => vec![s],
        (Some(_), false) => vec![RoadshowStatus::Published],
        (None, true) => Vec::new(),
        (None, false) => vec![RoadshowStatus::Published],
    };
    let industry = match given(q.industry.as_deref()).map(str::to_ascii_uppercase) {
        Some(p) if valid_industry_prefix(&p) => Some(p),
        Some(_) => {
            return Err(AppError::field(
                "industry",
                "invalid",
                "must be a GB/T 4754 code or prefix, e.g. C, C35, C3562",
            ));
        }
        None => None,
    };
    let from = given(q.from.as_deref()).map(|d| cst_day_start("from", d)).transpose()?;
    let until = given(q.to.as_deref()).map(|d| cst_day_start("to", d).map(|t| t + Duration::days(1))).transpose()?;
    let filter = roadshows::RoadshowFilter {
        statuses,
        centre: query_vocab("centre", q.centre.as_deref())?,
        from,
        until,
        industry,
    };
    roadshows::list(conn, &filter, after, limit).await
}

/// Presenters and their slots: the office and funds see all; an enterprise only its own slot.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn presenters(conn: &mut Conn, caller: &Principal, rs: &Roadshow) -> AppResult<Vec<Presenter>> {
    let only = caller.firm_id();
    roadshows::presenters(conn, rs.id, only).await
}

/// Registers for a roadshow as the caller: a fund for itself, the office on a named fund's behalf.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, roadshow_id = %roadshow_id))]
pub async fn register_as(
    conn: &mut Conn,
    lh: &Letterhead,
    roadshow_id: Uuid,
    input: &RegistrationInput,
    caller: &Principal,
    now: DateTime<Utc>,
) -> AppResult<Registration> {
    let fund_id = caller
        .acting_fund(input.fund_id)?
        .ok_or_else(|| AppError::field("fund_id", "required", "say which fund registers"))?;
    let fields = input.validate()?;
    if caller.is_admin() && funds::get(conn, fund_id).await?.is_none() {
        return Err(AppError::field("fund_id", "not_found", format!("no fund with id {fund_id}")));
    }
    register(conn, lh, roadshow_id, fund_id, &fields, caller, now).await
}

/// Registrations of a roadshow: the office sees all (or one fund's), a fund its own.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, roadshow_id = %roadshow_id))]
pub async fn registrations_of(
    conn: &mut Conn,
    caller: &Principal,
    roadshow_id: Uuid,
    fund_filter: Option<Uuid>,
    status: Option<RegistrationStatus>,
    after: Option<Uuid>,
    limit: u32,
) -> AppResult<Vec<Registration>> {
    let fund_id = match caller.acts_for {
        ActsFor::Admin => fund_filter,
        ActsFor::Fund(own) => Some(own),
        _ => return Err(AppError::Forbidden(format!("a {} key cannot read registrations", caller.role()))),
    };
    let rs = visible_roadshow(conn, caller, roadshow_id).await?;
    let filter = registrations::RegistrationFilter { fund_id, status };
    registrations::list(conn, rs.id, &filter, after, limit).await
}

/// A fund's own registrations across roadshows, newest first, each with its roadshow.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn registrations_of_fund(
    conn: &mut Conn,
    caller: &Principal,
    limit: u32,
) -> AppResult<Vec<(Registration, Roadshow)>> {
    let fund_id = caller.fund_id().ok_or_else(|| AppError::Forbidden("only a fund has registrations".into()))?;
    let mut out = Vec::new();
    for reg in registrations::of_fund(conn, fund_id, limit).await? {
        if let Some(rs) = roadshows::get(conn, reg.roadshow_id).await? {
            out.push((reg, rs));
        }
    }
    Ok(out)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInResult {
    pub registration: Registration,
    /// `false` when the registration had already checked in (the call changes nothing then).
    pub first_check_in: bool,
}

/// Checks a registration in at the door by its token (the office). Every attempt is logged, the
/// refused ones too (they commit their log line and then fail).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, roadshow_id = %roadshow_id))]
pub async fn check_in(
    db: &crate::db::Db,
    caller: &Principal,
    roadshow_id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<CheckInResult> {
    caller.require_admin()?;
    let token = token.trim();
    if token.is_empty() || token.len() > 100 {
        return Err(AppError::field("token", "invalid", "must be a registration's check-in token"));
    }
    let id = roadshow_id;
    let mut tx = db.begin().await?;
    roadshows::get(&mut tx, id).await?.ok_or(AppError::not_found("roadshow"))?;
    let Some(reg) = registrations::find_by_token(&mut tx, id, token).await? else {
        registrations::log_checkin(&mut tx, id, None, "unknown_token", caller.key_id, now).await?;
        tx.commit().await?;
        return Err(AppError::not_found("registration"));
    };
    let refusal = match reg.status {
        RegistrationStatus::Confirmed => None,
        RegistrationStatus::Cancelled => Some(("registration_cancelled", "the registration was cancelled")),
        RegistrationStatus::Waitlisted => Some(("registration_waitlisted", "the registration is on the waitlist")),
        RegistrationStatus::PendingApproval => {
            Some(("registration_pending_approval", "the registration still waits for approval"))
        }
        RegistrationStatus::Rejected => Some(("registration_rejected", "the registration was not approved")),
    };
    if let Some((code, detail)) = refusal {
        registrations::log_checkin(&mut tx, id, Some(reg.id), code, caller.key_id, now).await?;
        tx.commit().await?;
        return Err(AppError::Conflict {
            code,
            detail: detail.into(),
            extra: Some(serde_json::json!({ "registration_id": reg.id, "registration_status": reg.status })),
        });
    }
    let first = registrations::check_in(&mut tx, reg.id, now).await?.unwrap_or(false);
    registrations::log_checkin(
        &mut tx,
        id,
        Some(reg.id),
        if first { "checked_in" } else { "already_checked_in" },
        caller.key_id,
        now,
    )
    .await?;
    let registration = registrations::get(&mut tx, reg.id).await?.ok_or(AppError::not_found("registration"))?;
    tx.commit().await?;
    Ok(CheckInResult { registration, first_check_in: first })
}

/// A firm's presenter slots with their roadshows (the firm itself: published roadshows only; the office: all).
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id, firm_id = %firm_id))]
pub async fn firm_slots(conn: &mut Conn, caller: &Principal, firm_id: FirmId) -> AppResult<FirmSlots> {
    caller.require_firm(firm_id)?;
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    let items = roadshows::slots_of_firm(conn, firm_id, !caller.is_admin())
        .await?
        .into_iter()
        .map(|(slot, roadshow)| FirmSlot { roadshow, slot })
        .collect();
    Ok(FirmSlots { firm_id, items })
}

/// The roadshow as an iCalendar feed (METHOD:PUBLISH, one VEVENT with the presenter schedule in
/// its description). The UID differs from the registration invitations' UIDs on purpose.
#[tracing::instrument(skip_all)]
pub async fn calendar_ics(conn: &mut Conn, lh: &Letterhead, rs: &Roadshow) -> AppResult<String> {
    let presenters = roadshows::presenters(conn, rs.id, None).await?;
    let mut zh =
        vec![format!("路演中心：{}", rs.centre.label_zh()), format!("时间：{}", span_zh(rs.starts_at, rs.ends_at))];
    let mut en = vec![
        format!("Centre: {}", crate::mail::templates::Centre::from(rs.centre).label_en()),
        format!("Time: {}", span_en(rs.starts_at, rs.ends_at)),
    ];
    if !presenters.is_empty() {
        zh.push("路演企业：".to_owned());
        en.push("Presenting firms:".to_owned());
        for p in &presenters {
            let cst = FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("UTC+8"))?;
            let line = format!(
                "{}–{} {}",
                p.slot_starts_at.with_timezone(&cst).format("%H:%M"),
                p.slot_ends_at.with_timezone(&cst).format("%H:%M"),
                p.firm_name
            );
            zh.push(line.clone());
            en.push(line);
        }
    }
    let location = match rs.venue.as_deref() {
        Some(v) => format!("{} · {v}", rs.centre.label_zh()),
        None => rs.centre.label_zh().to_owned(),
    };
    let event = CalendarEvent {
        uid: ics::roadshow_uid(rs.id),
        sequence: u32::try_from(rs.sequence).unwrap_or(0),
        summary: rs.title.clone(),
        description: format!("{}\n\n{}", zh.join("\n"), en.join("\n")),
        location,
        url: lh.link_base.as_ref().map(|b| format!("{b}/v1/roadshows/{}", rs.id)),
        starts_at: rs.starts_at,
        ends_at: rs.ends_at,
        organizer: lh.organizer.clone(),
        attendee: None,
        status: if rs.status == RoadshowStatus::Cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed },
        dtstamp: rs.updated_at,
    };
    Ok(ics::calendar(&[event]))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    #[schema(value_type = RegistrationStatus)]
    pub status: RegistrationStatus,
    pub registrations: i64,
    pub seats: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoneyCount {
    pub count: i64,
    #[schema(value_type = String, example = "30000000.00")]
    pub amount: rust_decimal::Decimal,
}

/// What came of a roadshow.
#[derive(Debug, Serialize, ToSchema)]
pub struct Outcome {
    pub roadshow_id: Uuid,
    pub status: RoadshowStatus,
    pub capacity: i64,
    pub seats_taken: i64,
    pub registrations: Vec<StatusCount>,
    pub checked_in: i64,
    pub presenters: i64,
    /// Open investment intentions recorded against this roadshow.
    pub intentions: MoneyCount,
    /// Closed investments recorded against this roadshow.
    pub closed_investments: MoneyCount,
}

/// One roadshow (any state).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(conn: &mut Conn, id: Uuid) -> AppResult<Roadshow> {
    roadshows::get(conn, id).await?.ok_or(AppError::not_found("roadshow"))
}

/// The roadshow with the `limit` best-fitting firms that could present at it, best first.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn recommendations(conn: &mut Conn, id: Uuid, limit: usize) -> AppResult<(Roadshow, Vec<Recommendation>)> {
    let rs = get(conn, id).await?;
    let candidates = roadshows::candidates(conn, rs.id, &rs.industry_focus).await?;
    let mut items = rank(&rs.industry_focus, candidates);
    items.truncate(limit);
    Ok((rs, items))
}

/// Takes a firm off the roadshow's presenters.
#[tracing::instrument(skip_all, fields(roadshow_id = %roadshow_id, firm_id = %firm_id))]
pub async fn remove_presenter(db: &Db, roadshow_id: Uuid, firm_id: FirmId) -> AppResult<()> {
    let mut tx = db.begin().await?;
    if !roadshows::delete_presenter(&mut tx, roadshow_id, firm_id).await? {
        return Err(AppError::not_found("presenter"));
    }
    tx.commit().await?;
    Ok(())
}

/// What came of a roadshow: registrations by status, attendance, presenters, investments.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn outcome(conn: &mut Conn, id: Uuid) -> AppResult<Outcome> {
    let rs = get(conn, id).await?;
    let (by_status, checked_in) = registrations::counts(conn, rs.id).await?;
    let presenters = roadshows::presenters(conn, rs.id, None).await?.len() as i64;
    let ((ni, ai), (nc, ac)) = crate::store::investments::totals_for_roadshow(conn, rs.id).await?;
    Ok(Outcome {
        roadshow_id: rs.id,
        status: rs.status,
        capacity: rs.capacity,
        seats_taken: rs.seats_taken,
        registrations: by_status
            .into_iter()
            .map(|(status, registrations, seats)| StatusCount { status, registrations, seats })
            .collect(),
        checked_in,
        presenters,
        intentions: MoneyCount { count: ni, amount: ai },
        closed_investments: MoneyCount { count: nc, amount: ac },
    })
}

/// Whether the firm has opted in to being shown to fund managers.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id))]
pub async fn investor_visibility(conn: &mut Conn, firm_id: FirmId) -> AppResult<InvestorVisibility> {
    if firms::get(conn, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    roadshows::visibility(conn, firm_id).await
}

/// Opts the firm in to (or out of) being recommended to fund managers.
#[tracing::instrument(skip_all, fields(firm_id = %firm_id, key_id = %key_id))]
pub async fn set_investor_visibility(
    db: &Db,
    firm_id: FirmId,
    visible: bool,
    key_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<InvestorVisibility> {
    let mut tx = db.begin().await?;
    if firms::get(&mut tx, firm_id).await?.is_none() {
        return Err(AppError::not_found("firm"));
    }
    let v = roadshows::set_visibility(&mut tx, firm_id, visible, key_id, now).await?;
    tx.commit().await?;
    tracing::info!(visible = v.visible, "investor visibility set");
    Ok(v)
}
