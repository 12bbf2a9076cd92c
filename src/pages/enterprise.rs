//! A firm's pages, for its own enterprise sign-in and for the office: financing status, matched
//! products with near misses and applying, consents, readiness per venue, listing progress,
//! profile and financials.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::form::Form;
use super::session::Viewer;
use super::{Ctx, FormErrors, answer, render, see_other};
use crate::domain::application::ApplicationDraft;
use crate::domain::consent::ConsentDraft;
use crate::domain::firm::{FinancialYear, FinancialsInput, Firm, FirmInput};
use crate::domain::ids::{BankId, FirmId};
use crate::domain::listing_stage::Progress;
use crate::error::{AppError, AppResult};
use crate::service::applications::ApplicationDetail;
use crate::service::consent::ConsentRecord;
use crate::service::financing::FinancingStatus;
use crate::service::listing::ReadinessReport;
use crate::service::matches::FirmMatches;
use crate::web::AppState;
use crate::web::query::Query;
use crate::{domain, service};

async fn firm_of(state: &AppState, v: &Viewer, id: FirmId) -> AppResult<(Firm, Vec<FinancialYear>)> {
    let mut conn = state.db.pool().acquire().await?;
    service::firms::get_as(&mut conn, v.principal(), id).await
}

#[derive(Template)]
#[template(path = "firm_overview.html")]
struct OverviewPage {
    ctx: Ctx,
    firm: Firm,
    status: FinancingStatus,
}

pub async fn overview(v: Viewer, state: web::Data<AppState>, id: web::Path<FirmId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (firm, _) = firm_of(&state, &v, id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let status = service::financing::status(&mut conn, v.principal(), id, state.clock.now()).await?;
    render(&OverviewPage { ctx: Ctx::from(&v), firm, status })
}

#[derive(Template)]
#[template(path = "firm_matches.html")]
struct MatchesPage {
    ctx: Ctx,
    firm_id: FirmId,
    firm_name: String,
    fm: FirmMatches,
    can_apply: bool,
    errors: FormErrors,
    /// The product whose application form the errors belong to.
    errors_for: Option<Uuid>,
}

async fn matches_page(
    state: &AppState,
    v: &Viewer,
    id: FirmId,
    errors: FormErrors,
    errors_for: Option<Uuid>,
) -> AppResult<MatchesPage> {
    let (firm, _) = firm_of(state, v, id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let fm = service::matches::firm_matches_for(&mut conn, v.principal(), id, state.clock.now()).await?;
    Ok(MatchesPage {
        ctx: Ctx::from(v),
        firm_id: id,
        firm_name: firm.name,
        fm,
        can_apply: v.firm_id() == Some(id),
        errors,
        errors_for,
    })
}

pub async fn matches(v: Viewer, state: web::Data<AppState>, id: web::Path<FirmId>) -> AppResult<HttpResponse> {
    render(&matches_page(&state, &v, id.into_inner(), FormErrors::default(), None).await?)
}

/// Applies for a product; the answer is the new application's page, or the form again with
/// the fields that need fixing (422).
pub async fn apply(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<FirmId>,
    mut form: Form,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    v.require_firm(id)?;
    let draft = ApplicationDraft {
        product_id: form.parse("product_id"),
        amount: form.decimal("amount"),
        term_months: form.parse("term_months"),
        purpose: form.text("purpose"),
    };
    let now = state.clock.now();
    let result = async {
        let mut tx = state.db.begin().await?;
        let out = service::applications::apply(&mut tx, v.principal(), &draft, now).await?;
        tx.commit().await?;
        Ok(out)
    }
    .await;
    let done = |detail: ApplicationDetail| format!("/app/applications/{}", detail.application.id);
    answer(&form, result, done, async |errors| matches_page(&state, &v, id, errors, draft.product_id).await).await
}

#[derive(Template)]
#[template(path = "firm_consents.html")]
struct ConsentsPage {
    ctx: Ctx,
    firm_id: FirmId,
    firm_name: String,
    consents: Vec<ConsentRecord>,
    banks: Vec<domain::bank::Bank>,
    errors: FormErrors,
}

impl ConsentsPage {
    fn bank_name(&self, id: &Option<BankId>) -> String {
        match id {
            None => self.ctx.t("consents.all_banks").to_owned(),
            Some(id) => {
                self.banks.iter().find(|b| b.id == *id).map(|b| b.name.clone()).unwrap_or_else(|| id.to_string())
            }
        }
    }

    fn state_key(&self, state: &str) -> &'static str {
        match state {
            "in_force" => "consents.in_force",
            "expired" => "consents.expired",
            _ => "consents.revoked",
        }
    }
}

async fn consents_page(state: &AppState, v: &Viewer, id: FirmId, errors: FormErrors) -> AppResult<ConsentsPage> {
    let (firm, _) = firm_of(state, v, id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let now = state.clock.now();
    let consents = service::consent::list_as(&mut conn, v.principal(), id, now).await?;
    let banks = service::consent::grantable_banks(&mut conn, v.principal(), id).await?;
    Ok(ConsentsPage { ctx: Ctx::from(v), firm_id: id, firm_name: firm.name, consents, banks, errors })
}

pub async fn consents(v: Viewer, state: web::Data<AppState>, id: web::Path<FirmId>) -> AppResult<HttpResponse> {
    render(&consents_page(&state, &v, id.into_inner(), FormErrors::default()).await?)
}

pub async fn grant_consent(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<FirmId>,
    mut form: Form,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let bank_id = match form.text("bank_id").as_deref() {
        None | Some("all") => None,
        Some(_) => form.parse::<BankId>("bank_id"),
    };
    // A day chosen in the form ends at midnight China Standard Time.
    let expires_at = form.parse::<NaiveDate>("expires_on").and_then(|d| {
        chrono::FixedOffset::east_opt(8 * 3600)
            .and_then(|cst| cst.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single())
            .map(|t| t.with_timezone(&Utc) + chrono::Duration::days(1))
    });
    let draft = ConsentDraft { bank_id: Some(bank_id), purpose: None, expires_at };
    let now = state.clock.now();
    let result = async {
        let mut tx = state.db.begin().await?;
        let record = service::consent::grant_as(&mut tx, v.principal(), id, draft, now).await?;
        tx.commit().await?;
        Ok(record)
    }
    .await;
    let done = |_| format!("/app/firms/{id}/consents");
    answer(&form, result, done, async |errors| consents_page(&state, &v, id, errors).await).await
}

pub async fn revoke_consent(
    v: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(FirmId, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, consent_id) = path.into_inner();
    let mut tx = state.db.begin().await?;
    service::consent::revoke_as(&mut tx, v.principal(), id, consent_id, state.clock.now()).await?;
    tx.commit().await?;
    Ok(see_other(format!("/app/firms/{id}/consents")))
}

#[derive(Template)]
#[template(path = "firm_readiness.html")]
struct ReadinessPage {
    ctx: Ctx,
    firm_name: String,
    report: ReadinessReport,
}

impl ReadinessPage {
    fn num(&self, d: &Option<Decimal>) -> String {
        d.map(|d| d.normalize().to_string()).unwrap_or_else(|| "—".into())
    }
}

pub async fn readiness(v: Viewer, state: web::Data<AppState>, id: web::Path<FirmId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (firm, _) = firm_of(&state, &v, id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let report =
        service::listing::readiness_as(&mut conn, &state.rules, v.principal(), id, None, state.clock.today()).await?;
    render(&ReadinessPage { ctx: Ctx::from(&v), firm_name: firm.name, report })
}

#[derive(Template)]
#[template(path = "firm_listing.html")]
struct ListingPage {
    ctx: Ctx,
    firm_name: String,
    venues: Vec<Progress>,
}

impl ListingPage {
    fn recorded(&self) -> Vec<&Progress> {
        self.venues.iter().filter(|p| !p.history.is_empty()).collect()
    }
}

pub async fn listing(v: Viewer, state: web::Data<AppState>, id: web::Path<FirmId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (firm, _) = firm_of(&state, &v, id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let venues = service::listing::progress_as(&mut conn, v.principal(), id, state.clock.today()).await?;
    render(&ListingPage { ctx: Ctx::from(&v), firm_name: firm.name, venues })
}

/// One input of a form as a template shows it.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub inputmode: Option<&'static str>,
    pub error: Option<String>,
}

const PROFILE_FIELDS: &[&str] = &[
    "name",
    "district",
    "industry_code",
    "founded_on",
    "expected_market_value",
    "contact_name",
    "contact_email",
    "contact_phone",
];

const FINANCIAL_FIELDS: &[&str] = &[
    "fiscal_year",
    "revenue",
    "main_business_revenue",
    "net_profit",
    "net_profit_deducted",
    "rd_expense",
    "operating_cash_flow",
    "total_assets",
    "total_liabilities",
    "net_assets",
    "weighted_roe",
    "weighted_roe_deducted",
    "invention_patents",
    "employees",
    "rd_staff",
    "audited_on",
];

fn profile_value(f: &Firm, name: &str) -> String {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    match name {
        "name" => f.name.clone(),
        "district" => s(&f.district),
        "industry_code" => f.industry_code.clone(),
        "founded_on" => f.founded_on.map(|d| d.to_string()).unwrap_or_default(),
        "expected_market_value" => f.expected_market_value.map(|d| d.to_string()).unwrap_or_default(),
        "contact_name" => s(&f.contact_name),
        "contact_email" => s(&f.contact_email),
        "contact_phone" => s(&f.contact_phone),
        _ => String::new(),
    }
}

fn financial_value(y: Option<&FinancialYear>, name: &str) -> String {
    let Some(y) = y else { return String::new() };
    let d = |v: Option<Decimal>| v.map(|d| d.to_string()).unwrap_or_default();
    let i = |v: Option<i64>| v.map(|d| d.to_string()).unwrap_or_default();
    match name {
        "fiscal_year" => y.fiscal_year.to_string(),
        "revenue" => d(y.revenue),
        "main_business_revenue" => d(y.main_business_revenue),
        "net_profit" => d(y.net_profit),
        "net_profit_deducted" => d(y.net_profit_deducted),
        "rd_expense" => d(y.rd_expense),
        "operating_cash_flow" => d(y.operating_cash_flow),
        "total_assets" => d(y.total_assets),
        "total_liabilities" => d(y.total_liabilities),
        "net_assets" => d(y.net_assets),
        "weighted_roe" => d(y.weighted_roe),
        "weighted_roe_deducted" => d(y.weighted_roe_deducted),
        "invention_patents" => i(y.invention_patents),
        "employees" => i(y.employees),
        "rd_staff" => i(y.rd_staff),
        "audited_on" => y.audited_on.map(|d| d.to_string()).unwrap_or_default(),
        _ => String::new(),
    }
}

fn fields(
    ctx: &Ctx,
    names: &[&'static str],
    value: impl Fn(&str) -> String,
    posted: Option<&Form>,
    errors: &FormErrors,
) -> Vec<FieldView> {
    names
        .iter()
        .map(|&name| FieldView {
            name,
            label: ctx.t(&format!("field.{name}")),
            value: posted.and_then(|f| f.raw(name)).unwrap_or_else(|| value(name)),
            inputmode: match name {
                "fiscal_year" | "invention_patents" | "employees" | "rd_staff" => Some("numeric"),
                "name" | "district" | "industry_code" | "founded_on" | "contact_name" | "contact_email"
                | "contact_phone" | "audited_on" => None,
                _ => Some("decimal"),
            },
            error: errors.of(name),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "firm_profile.html")]
struct ProfilePage {
    ctx: Ctx,
    firm: Firm,
    saved: bool,
    profile_errors: FormErrors,
    financial_errors: FormErrors,
    profile_fields: Vec<FieldView>,
    financial_fields: Vec<FieldView>,
}

enum Posted<'a> {
    Nothing,
    Profile(&'a Form, FormErrors),
    Financials(&'a Form, FormErrors),
}

async fn profile_page(state: &AppState, v: &Viewer, id: FirmId, posted: Posted<'_>) -> AppResult<ProfilePage> {
    let saved = false;
    let (firm, years) = firm_of(state, v, id).await?;
    let ctx = Ctx::from(v);
    let latest = years.last();
    let (pf, pe, ff, fe) = match posted {
        Posted::Nothing => (None, FormErrors::default(), None, FormErrors::default()),
        Posted::Profile(f, e) => (Some(f), e, None, FormErrors::default()),
        Posted::Financials(f, e) => (None, FormErrors::default(), Some(f), e),
    };
    let profile_fields = fields(&ctx, PROFILE_FIELDS, |n| profile_value(&firm, n), pf, &pe);
    let financial_fields = fields(&ctx, FINANCIAL_FIELDS, |n| financial_value(latest, n), ff, &fe);
    Ok(ProfilePage { ctx, firm, saved, profile_errors: pe, financial_errors: fe, profile_fields, financial_fields })
}

#[derive(Debug, serde::Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn profile(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<FirmId>,
    q: Query<SavedQuery>,
) -> AppResult<HttpResponse> {
    let mut page = profile_page(&state, &v, id.into_inner(), Posted::Nothing).await?;
    page.saved = q.saved.is_some();
    render(&page)
}

pub async fn save_profile(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<FirmId>,
    form: Form,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let input = FirmInput {
        name: form.raw("name"),
        district: form.raw("district"),
        industry_code: form.raw("industry_code"),
        founded_on: form.raw("founded_on"),
        expected_market_value: form.raw("expected_market_value"),
        contact_name: form.raw("contact_name"),
        contact_email: form.raw("contact_email"),
        contact_phone: form.raw("contact_phone"),
        ..FirmInput::default()
    };
    let now = state.clock.now();
    let result = async {
        let mut tx = state.db.begin().await?;
        let firm = service::firms::patch_as(&mut tx, state.db.dialect(), v.principal(), id, &input, now).await?;
        tx.commit().await?;
        Ok(firm)
    }
    .await;
    let done = |_| format!("/app/firms/{id}/profile?saved=1");
    answer(&form, result, done, async |errors| profile_page(&state, &v, id, Posted::Profile(&form, errors)).await).await
}

pub async fn save_financials(
    v: Viewer,
    state: web::Data<AppState>,
    id: web::Path<FirmId>,
    mut form: Form,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let year: Option<i64> = form.parse("fiscal_year");
    let input = FinancialsInput {
        revenue: form.text("revenue"),
        main_business_revenue: form.text("main_business_revenue"),
        net_profit: form.text("net_profit"),
        net_profit_deducted: form.text("net_profit_deducted"),
        rd_expense: form.text("rd_expense"),
        operating_cash_flow: form.text("operating_cash_flow"),
        total_assets: form.text("total_assets"),
        total_liabilities: form.text("total_liabilities"),
        net_assets: form.text("net_assets"),
        weighted_roe: form.text("weighted_roe"),
        weighted_roe_deducted: form.text("weighted_roe_deducted"),
        invention_patents: form.parse("invention_patents"),
        employees: form.parse("employees"),
        rd_staff: form.parse("rd_staff"),
        audited_on: form.text("audited_on"),
    };
    let now = state.clock.now();
    let result = async {
        let year = year.ok_or_else(|| AppError::field("fiscal_year", "required", "is required"))?;
        let mut tx = state.db.begin().await?;
        let fy = service::firms::put_financials_as(&mut tx, state.db.dialect(), v.principal(), id, year, &input, now)
            .await?;
        tx.commit().await?;
        Ok(fy)
    }
    .await;
    let done = |_| format!("/app/firms/{id}/profile?saved=1");
    answer(&form, result, done, async |errors| profile_page(&state, &v, id, Posted::Financials(&form, errors)).await)
        .await
}
