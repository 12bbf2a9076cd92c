//! Sign-in (API key or mailed link), sign-out, the language switch, and each role's start page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::{self, LANG_COOKIE, SESSION_COOKIE, Viewer, Visitor};
use super::{Ctx, PageState, render_status, see_other};
use crate::error::AppResult;
use crate::service::sessions::{self, Opened};
use crate::web::AppState;
use crate::web::query::Query;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    ctx: Ctx,
    next: String,
    link_sent: bool,
    key_refused: bool,
    link_refused: bool,
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    sent: Option<String>,
    refused: Option<String>,
}

pub async fn sign_in_page(v: Visitor, q: Query<SignInQuery>) -> AppResult<HttpResponse> {
    if let Some(s) = &v.session {
        return Ok(see_other(session::home_of(&s.principal)));
    }
    let page = SignInPage {
        ctx: Ctx::from(&v),
        next: session::local_path(q.next.as_deref()).unwrap_or_default(),
        link_sent: q.sent.is_some(),
        key_refused: false,
        link_refused: q.refused.is_some(),
    };
    render_status(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    key: String,
    next: Option<String>,
}

fn signed_in(pages: &PageState, opened: Opened, next: Option<String>) -> HttpResponse {
    let target = next.unwrap_or_else(|| session::home_of(&opened.session.principal));
    let mut resp = see_other(target);
    let _ = resp.add_cookie(&session::cookie(pages, SESSION_COOKIE, opened.token, None));
    resp
}

pub async fn sign_in_with_key(
    req: HttpRequest,
    v: Visitor,
    state: web::Data<AppState>,
    pages: web::Data<PageState>,
    form: web::Form<KeyForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let replaces = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    match sessions::sign_in_with_key(&state.db, &form.key, replaces.as_deref(), pages.lifetimes, state.clock.now())
        .await?
    {
        Some(opened) => Ok(signed_in(&pages, opened, session::local_path(form.next.as_deref()))),
        None => {
            let page = SignInPage {
                ctx: Ctx::from(&v),
                next: session::local_path(form.next.as_deref()).unwrap_or_default(),
                link_sent: false,
                key_refused: true,
                link_refused: false,
            };
            render_status(StatusCode::UNAUTHORIZED, &page)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EmailForm {
    email: String,
}

/// Answers the same whether or not the address belongs to anyone, and before looking it up, so
/// neither the page nor its timing tells.
pub async fn request_link(
    state: web::Data<AppState>,
    pages: web::Data<PageState>,
    form: web::Form<EmailForm>,
) -> AppResult<HttpResponse> {
    let address = form.into_inner().email;
    let db = state.db.clone();
    let now = state.clock.now();
    let organizer = crate::service::mail_organizer(&state.config);
    let base = pages.base_url.clone();
    actix_web::rt::spawn(async move {
        if let Err(e) = sessions::request_link(&db, &address, &base, organizer, now).await {
            tracing::error!(error = %e, "sign-in link request failed");
        }
    });
    Ok(see_other("/signin?sent=1"))
}

#[derive(Template)]
#[template(path = "signin_link.html")]
struct LinkPage {
    ctx: Ctx,
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    token: Option<String>,
}

/// The link in the mail opens this confirmation page; only its button uses the link up, so a
/// mail scanner that follows links cannot spend it.
pub async fn link_page(v: Visitor, q: Query<LinkQuery>) -> AppResult<HttpResponse> {
    let token = q.into_inner().token.unwrap_or_default();
    render_status(StatusCode::OK, &LinkPage { ctx: Ctx::from(&v), token })
}

#[derive(Debug, Deserialize)]
pub struct LinkForm {
    token: String,
}

pub async fn redeem_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    pages: web::Data<PageState>,
    form: web::Form<LinkForm>,
) -> AppResult<HttpResponse> {
    let replaces = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let token = form.into_inner().token;
    match sessions::redeem_link(&state.db, &token, replaces.as_deref(), pages.lifetimes, state.clock.now()).await? {
        Some(opened) => Ok(signed_in(&pages, opened, None)),
        None => Ok(see_other("/signin?refused=link")),
    }
}

pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    pages: web::Data<PageState>,
) -> AppResult<HttpResponse> {
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        sessions::sign_out(&state.db, c.value()).await?;
    }
    let mut resp = see_other("/signin");
    let _ = resp.add_cookie(&session::removal(&pages, SESSION_COOKIE));
    Ok(resp)
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    to: Option<String>,
    back: Option<String>,
}

pub async fn switch_language(pages: web::Data<PageState>, q: Query<LangQuery>) -> HttpResponse {
    let lang = q.to.as_deref().and_then(super::i18n::Lang::parse).unwrap_or(super::i18n::Lang::Zh);
    let mut resp = see_other(session::local_path(q.back.as_deref()).unwrap_or_else(|| "/".into()));
    let year = chrono::Duration::days(365);
    let _ = resp.add_cookie(&session::cookie(&pages, LANG_COOKIE, lang.code().to_owned(), Some(year)));
    resp
}

pub async fn home(v: Viewer) -> HttpResponse {
    see_other(session::home_of(v.principal()))
}
