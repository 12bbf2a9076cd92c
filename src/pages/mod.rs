//! Server-rendered web pages for the people the service is for: enterprises, fund managers, banks,
//! the office, and a public roadshow list.
//!
//! Pages are a second face of the same use cases as the API: a page handler reads its input,
//! calls the `service` function the API handler calls with the same [`Principal`], and renders the
//! answer with an askama template. No SQL and no business rule lives here. Sessions, CSRF and
//! security headers are in [`session`] and [`frame`]; labels come from [`i18n`].

pub mod assets;
pub mod auth;
pub mod bank;
pub mod charts;
pub mod enterprise;
pub mod errors;
pub mod form;
pub mod frame;
pub mod fund;
pub mod i18n;
pub mod office;
pub mod public;
pub mod session;

use std::fmt::Display;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::domain::VocabularyValue;
use crate::domain::access::{ActsFor, Principal, Role};
use crate::domain::validate::FieldError;
use crate::error::{AppError, AppResult};
use crate::service::sessions::Lifetimes;
use i18n::Lang;
use session::{Viewer, Visitor};

/// What the pages need besides the API's state.
#[derive(Debug, Clone)]
pub struct PageState {
    /// Where people reach the service (links in sign-in mails point here).
    pub base_url: String,
    pub lifetimes: Lifetimes,
    /// `Secure` cookies: set when the public base URL is HTTPS.
    pub secure_cookies: bool,
    /// Largest form body (bulk imports are the big ones).
    pub max_body: usize,
    /// The office dashboard's figures, kept briefly: they take every plan target's queries, and
    /// a dashboard a minute old is as useful as one computed on every load.
    pub dashboard: office::DashboardCache,
}

impl PageState {
    pub fn new(config: &crate::config::Config, base_url: String) -> PageState {
        PageState {
            base_url,
            lifetimes: Lifetimes::from_config(config),
            secure_cookies: config.served_over_https(),
            max_body: config.max_body_bytes,
            dashboard: office::DashboardCache::default(),
        }
    }
}

fn framed(
    path: &str,
) -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope(path).wrap(from_fn(frame::frame))
}

/// Every page route, in one table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use web::{get, post};
    cfg.service(web::resource("/").route(get().to(public::root)))
        .service(web::resource("/assets/{name}").route(get().to(assets::serve)))
        .service(framed("/roadshows").route("", get().to(public::roadshows)))
        .service(
            framed("/signin")
                .route("", get().to(auth::sign_in_page))
                .route("/key", post().to(auth::sign_in_with_key))
                .route("/email", post().to(auth::request_link))
                .route("/link", get().to(auth::link_page))
                .route("/link", post().to(auth::redeem_link)),
        )
        .service(framed("/signout").route("", post().to(auth::sign_out)))
        .service(framed("/lang").route("", get().to(auth::switch_language)))
        .service(
            framed("/app")
                .route("", get().to(auth::home))
                // A firm's pages: its own enterprise, and the office.
                .route("/firms/{id}", get().to(enterprise::overview))
                .route("/firms/{id}/matches", get().to(enterprise::matches))
                .route("/firms/{id}/applications", post().to(enterprise::apply))
                .route("/firms/{id}/consents", get().to(enterprise::consents))
                .route("/firms/{id}/consents", post().to(enterprise::grant_consent))
                .route("/firms/{id}/consents/{cid}/revoke", post().to(enterprise::revoke_consent))
                .route("/firms/{id}/readiness", get().to(enterprise::readiness))
                .route("/firms/{id}/listing", get().to(enterprise::listing))
                .route("/firms/{id}/profile", get().to(enterprise::profile))
                .route("/firms/{id}/profile", post().to(enterprise::save_profile))
                .route("/firms/{id}/financials", post().to(enterprise::save_financials))
                // Roadshows: funds register, the office runs them.
                .route("/roadshows", get().to(fund::calendar))
                .route("/roadshows", post().to(office::create_roadshow))
                .route("/roadshows/new", get().to(office::new_roadshow))
                .route("/roadshows/{id}", get().to(fund::roadshow))
                .route("/roadshows/{id}/calendar.ics", get().to(fund::calendar_ics))
                .route("/roadshows/{id}/registrations", post().to(fund::register))
                .route("/roadshows/{id}/registrations/{rid}/cancel", post().to(fund::cancel))
                .route("/roadshows/{id}/status", post().to(office::set_roadshow_status))
                .route("/roadshows/{id}/check-in", get().to(office::check_in_list))
                .route("/roadshows/{id}/check-in", post().to(office::check_in))
                .route("/registrations", get().to(fund::registrations))
                .route("/investments", get().to(fund::investments))
                .route("/investments", post().to(fund::record_investment))
                // Banks.
                .route("/matches", get().to(bank::matches))
                .route("/matches.csv", get().to(bank::matches_csv))
                .route("/applications", get().to(bank::applications))
                .route("/applications/{id}", get().to(bank::application))
                .route("/applications/{id}/transitions", post().to(bank::transition))
                .route("/webhooks", get().to(bank::webhooks))
                .route("/webhooks/{id}", get().to(bank::webhook))
                .route("/webhooks/{id}/test", post().to(bank::test_webhook))
                .route("/webhooks/{id}/rotate-secret", post().to(bank::rotate_secret))
                // The office.
                .route("/office", get().to(office::dashboard))
                .route("/pool", get().to(office::pool))
                .route("/pool.csv", get().to(office::pool_csv))
                .route("/import", get().to(office::import_page))
                .route("/import", post().to(office::import))
                .default_service(web::to(not_found)),
        );
}

async fn not_found() -> AppResult<HttpResponse> {
    Err(AppError::not_found("page"))
}

/// Renders a template as an HTML page.
pub fn render(t: &impl Template) -> AppResult<HttpResponse> {
    render_status(actix_web::http::StatusCode::OK, t)
}

pub fn render_status(status: actix_web::http::StatusCode, t: &impl Template) -> AppResult<HttpResponse> {
    let html = t.render().map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html))
}

/// After a successful form post: show the resulting page (POST, redirect, GET).
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((actix_web::http::header::LOCATION, location.into())).finish()
}

/// What every template gets: language, CSRF token, who is signed in, where we are.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub csrf: String,
    pub here: String,
    pub principal: Option<Principal>,
}

impl From<&Visitor> for Ctx {
    fn from(v: &Visitor) -> Ctx {
        Ctx { lang: v.lang, csrf: v.csrf.clone(), here: v.here.clone(), principal: v.session.map(|s| s.principal) }
    }
}

impl From<&Viewer> for Ctx {
    fn from(v: &Viewer) -> Ctx {
        Ctx::from(&v.visitor)
    }
}

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// One entry of the navigation bar.
pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

impl Ctx {
    pub fn bare(lang: Lang) -> Ctx {
        Ctx { lang, csrf: String::new(), here: "/".into(), principal: None }
    }

    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// A message with one `{}` filled in.
    pub fn t1(&self, key: &str, arg: impl Display) -> String {
        i18n::t(self.lang, key).replacen("{}", &arg.to_string(), 1)
    }

    /// The label of a vocabulary value in the reader's language.
    pub fn v<V: VocabularyValue>(&self, value: V) -> &'static str {
        i18n::vocab(self.lang, value.vocabulary_value())
    }

    /// The Chinese or the English of a pair, by the reader's language.
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn html_lang(&self) -> &'static str {
        self.lang.html_lang()
    }

    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh-CN",
        }
    }

    pub fn other_lang_label(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "English",
            Lang::En => "中文",
        }
    }

    pub fn lang_switch_url(&self) -> String {
        let to = match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        };
        let back: String = url::form_urlencoded::byte_serialize(self.here.as_bytes()).collect();
        format!("/lang?to={to}&back={back}")
    }

    pub fn signed_in(&self) -> bool {
        self.principal.is_some()
    }

    pub fn is_admin(&self) -> bool {
        self.principal.is_some_and(|p| p.role() == Role::Admin)
    }

    pub fn is_role(&self, role: &str) -> bool {
        self.principal.is_some_and(|p| p.role().as_str() == role)
    }

    pub fn home(&self) -> String {
        self.principal.as_ref().map_or_else(|| "/".to_owned(), session::home_of)
    }

    pub fn nav(&self) -> Vec<NavItem> {
        let Some(p) = self.principal else { return Vec::new() };
        let items: Vec<(String, &str)> = match p.acts_for {
            ActsFor::Enterprise(f) => vec![
                (format!("/app/firms/{f}"), "nav.overview"),
                (format!("/app/firms/{f}/matches"), "nav.matches"),
                (format!("/app/firms/{f}/consents"), "nav.consents"),
                (format!("/app/firms/{f}/readiness"), "nav.readiness"),
                (format!("/app/firms/{f}/listing"), "nav.listing"),
                (format!("/app/firms/{f}/profile"), "nav.profile"),
            ],
            ActsFor::Fund(_) => vec![
                ("/app/roadshows".into(), "nav.roadshows"),
                ("/app/registrations".into(), "nav.registrations"),
                ("/app/investments".into(), "nav.investments"),
            ],
            ActsFor::Bank(_) => vec![
                ("/app/matches".into(), "nav.bank_matches"),
                ("/app/applications".into(), "nav.applications"),
                ("/app/webhooks".into(), "nav.webhooks"),
            ],
            ActsFor::Admin => vec![
                ("/app/office".into(), "nav.dashboard"),
                ("/app/pool".into(), "nav.pool"),
                ("/app/import".into(), "nav.import"),
                ("/app/roadshows".into(), "nav.roadshow_admin"),
                ("/app/applications".into(), "nav.applications"),
            ],
        };
        let path = self.here.split('?').next().unwrap_or("");
        items.into_iter().map(|(href, key)| NavItem { current: path == href, label: self.t(key), href }).collect()
    }

    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }

    /// A day as people in Shandong read it.
    pub fn day(&self, d: &NaiveDate) -> String {
        d.format("%Y-%m-%d").to_string()
    }

    /// An instant in China Standard Time, to the minute.
    pub fn time(&self, t: &DateTime<Utc>) -> String {
        t.with_timezone(&cst()).format("%Y-%m-%d %H:%M").to_string()
    }

    pub fn time_opt(&self, t: &Option<DateTime<Utc>>) -> String {
        t.as_ref().map(|t| self.time(t)).unwrap_or_default()
    }

    /// Yuan with thousands separators and two decimals.
    pub fn money(&self, d: &Decimal) -> String {
        let mut d = *d;
        d.rescale(2);
        let text = d.abs().to_string();
        let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{}¥{grouped}.{frac}", if d.is_sign_negative() { "-" } else { "" })
    }

    pub fn money_opt(&self, d: &Option<Decimal>) -> String {
        d.as_ref().map(|d| self.money(d)).unwrap_or_else(|| "—".into())
    }
}

/// Field errors of a form, shown next to their fields in the reader's language.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    pub list: Vec<FieldError>,
    lang: Lang,
}

impl FormErrors {
    pub fn any(&self) -> bool {
        !self.list.is_empty()
    }

    pub fn message(&self, error: &FieldError) -> String {
        i18n::field_error(self.lang, error)
    }

    /// The message for a field (and its sub-fields, e.g. `financials.2024.revenue` under `revenue`).
    pub fn of(&self, field: &str) -> Option<String> {
        let msgs: Vec<String> = self
            .list
            .iter()
            .filter(|e| e.field == field || e.field.ends_with(&format!(".{field}")))
            .map(|e| self.message(e))
            .collect();
        (!msgs.is_empty()).then(|| msgs.join("; "))
    }

    /// Errors that belong to no field of the form.
    pub fn others(&self, fields: &[&str]) -> Vec<&FieldError> {
        self.list
            .iter()
            .filter(|e| !fields.iter().any(|f| e.field == *f || e.field.ends_with(&format!(".{f}"))))
            .collect()
    }
}

/// The answer to a posted form: on success a redirect to `done`'s page (post, redirect, get); on a
/// 422 the form's page again with each field's error next to it; any other error as its error page.
pub async fn answer<T, P: Template>(
    form: &form::Form,
    result: AppResult<T>,
    done: impl FnOnce(T) -> String,
    again: impl AsyncFnOnce(FormErrors) -> AppResult<P>,
) -> AppResult<HttpResponse> {
    match form.merge(result) {
        Ok(value) => Ok(see_other(done(value))),
        Err(e) => {
            let page = again(form.errors_of(e)?).await?;
            render_status(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_and_signed() {
        let ctx = Ctx::bare(Lang::Zh);
        assert_eq!(ctx.money(&Decimal::new(123456789, 2)), "¥1,234,567.89");
        assert_eq!(ctx.money(&Decimal::new(-5, 0)), "-¥5.00");
        assert_eq!(ctx.money(&Decimal::new(100, 0)), "¥100.00");
    }
}
