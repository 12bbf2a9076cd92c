//! The one error type of the service. Every failure a request can meet becomes an [`AppError`];
//! `api::problem` turns it into `application/problem+json` in one place.

use serde_json::Value;

use crate::domain::validate::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 422: the request was well-formed but these fields are wrong.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 400: the request could not be read (malformed JSON, bad cursor, bad query string…).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// 409, with optional extension members (e.g. the existing firm's id, the allowed next stages).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String, extra: Option<Value> },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{0}")]
    Unavailable(String),
    /// 500: logged with its cause, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> AppError {
        AppError::BadRequest { code, detail: detail.into() }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> AppError {
        AppError::Conflict { code, detail: detail.into(), extra: None }
    }

    pub fn not_found(what: &'static str) -> AppError {
        AppError::NotFound { what }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut => AppError::Unavailable("the database is busy; try again".into()),
            // PostgreSQL's statement_timeout (57014) and SQLite's busy/locked after its busy
            // timeout (5, 6 and their extended codes) say "too much at once", not "broken".
            sqlx::Error::Database(db) if db.code().is_some_and(|c| c == "57014") => {
                AppError::Unavailable("the request took longer than the database allows; try again or narrow it".into())
            }
            sqlx::Error::Database(db) if db.code().is_some_and(|c| is_sqlite_busy(&c)) => {
                AppError::Unavailable("the database is busy; try again".into())
            }
            _ => AppError::Internal(anyhow::Error::new(e)),
        }
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        AppError::Validation(errors)
    }
}

fn is_sqlite_busy(code: &str) -> bool {
    // SQLite codes are short numbers; PostgreSQL SQLSTATEs are always five characters.
    code.len() < 5 && code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

/// Whether a database error is a unique-constraint violation (both backends).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || db.code().is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}
