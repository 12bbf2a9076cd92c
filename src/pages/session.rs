//! Who is looking at a page: language, session (if signed in) and the CSRF token for its forms.
//!
//! Cookies: `srdi_session` holds the session token (HttpOnly, SameSite=Strict, Secure behind
//! HTTPS); before sign-in, `srdi_presession` holds a random nonce so that the sign-in forms are
//! protected the same way; `srdi_lang` holds an explicit language choice.
//!
//! CSRF: synchronizer token derived from the cookie secret the form is bound to (the session
//! token, or the pre-session nonce): `base64url(SHA-256("srdi-csrf\0" ‖ secret))`. The server can
//! recompute it from the cookie on every request, so nothing more is stored, and the database,
//! which holds only a different digest of the session token, does not reveal it. `frame::check`
//! is the one place that verifies it.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::PageState;
use super::i18n::Lang;
use crate::domain::access::{ActsFor, Principal, Role};
use crate::error::AppError;
use crate::service::sessions::{self, Session};
use crate::web::AppState;

pub const SESSION_COOKIE: &str = "srdi_session";
pub const PRESESSION_COOKIE: &str = "srdi_presession";
pub const LANG_COOKIE: &str = "srdi_lang";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The cookie secret this request's forms are bound to, put in the request extensions by the
/// frame middleware.
#[derive(Debug, Clone)]
pub struct CsrfBinding(pub String);

pub fn csrf_token(binding: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"srdi-csrf\0");
    h.update(binding.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Equal-length comparison that does not stop at the first difference.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn lang_of(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())).unwrap_or_else(|| {
        Lang::negotiate(req.headers().get(actix_web::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
    })
}

/// A cookie with the attributes every cookie of the pages carries.
pub fn cookie(
    state: &PageState,
    name: &'static str,
    value: String,
    max_age: Option<chrono::Duration>,
) -> Cookie<'static> {
    let mut c =
        Cookie::build(name, value).path("/").http_only(true).same_site(SameSite::Strict).secure(state.secure_cookies);
    if let Some(age) = max_age {
        c = c.max_age(actix_web::cookie::time::Duration::seconds(age.num_seconds()));
    }
    c.finish()
}

/// A cookie that tells the browser to forget `name`.
pub fn removal(state: &PageState, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new(), None);
    c.make_removal();
    c
}

/// Anyone looking at a page, signed in or not.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub lang: Lang,
    pub session: Option<Session>,
    pub csrf: String,
    /// Path and query of this page (the language switch comes back to it).
    pub here: String,
}

/// Someone signed in: the same principal the API would see for their key.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub visitor: Visitor,
    pub session: Session,
}

impl Viewer {
    pub fn principal(&self) -> &Principal {
        &self.session.principal
    }

    pub fn role(&self) -> Role {
        self.session.principal.role()
    }

    pub fn lang(&self) -> Lang {
        self.visitor.lang
    }
}

impl std::ops::Deref for Viewer {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.session.principal
    }
}

fn state_of(req: &HttpRequest) -> Result<(web::Data<AppState>, web::Data<PageState>), AppError> {
    let app = req.app_data::<web::Data<AppState>>().cloned();
    let pages = req.app_data::<web::Data<PageState>>().cloned();
    match (app, pages) {
        (Some(a), Some(p)) => Ok((a, p)),
        _ => Err(AppError::Internal(anyhow::anyhow!("application state missing"))),
    }
}

async fn visitor(req: HttpRequest) -> Result<Visitor, AppError> {
    let (app, pages) = state_of(&req)?;
    let session = match req.cookie(SESSION_COOKIE) {
        Some(c) if !c.value().is_empty() => {
            sessions::load(&app.db, c.value(), pages.lifetimes, app.clock.now()).await?
        }
        _ => None,
    };
    if let Some(s) = &session {
        tracing::Span::current().record("key_id", tracing::field::display(s.principal.key_id));
        req.extensions_mut().insert(s.principal);
    }
    let binding = req.extensions().get::<CsrfBinding>().map(|b| b.0.clone()).unwrap_or_default();
    let here = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
    Ok(Visitor { lang: lang_of(&req), session, csrf: csrf_token(&binding), here })
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Visitor, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(visitor(req.clone()))
    }
}

impl FromRequest for Viewer {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Viewer, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let v = visitor(req).await?;
            match v.session {
                Some(session) => Ok(Viewer { visitor: v, session }),
                None => Err(AppError::Unauthorized("sign in to see this page".into())),
            }
        })
    }
}

/// The page a role starts on after sign-in.
pub fn home_of(p: &Principal) -> String {
    match p.acts_for {
        ActsFor::Enterprise(firm) => format!("/app/firms/{firm}"),
        ActsFor::Fund(_) => "/app/roadshows".to_owned(),
        ActsFor::Bank(_) => "/app/matches".to_owned(),
        ActsFor::Admin => "/app/office".to_owned(),
    }
}

/// A local path to return to after sign-in or a language switch; anything else is refused so
/// that the parameter cannot send people to another site.
pub fn local_path(candidate: Option<&str>) -> Option<String> {
    let p = candidate?.trim();
    let ok = p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control);
    ok.then(|| p.to_owned())
}

pub fn new_presession() -> String {
    sessions::new_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_secret_and_compared_whole() {
        let a = csrf_token("secret-a");
        assert_eq!(a, csrf_token("secret-a"));
        assert_ne!(a, csrf_token("secret-b"));
        assert!(same_token(&a, &csrf_token("secret-a")));
        assert!(!same_token(&a, &csrf_token("secret-b")));
        assert!(!same_token(&a, &a[..10]));
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/app/matches?page=2")).as_deref(), Some("/app/matches?page=2"));
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil", "/a\nb"] {
            assert_eq!(local_path(Some(bad)), None, "{bad}");
        }
        assert_eq!(local_path(None), None);
    }
}
