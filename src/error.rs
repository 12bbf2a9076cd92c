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
    /// 410: the resource existed and was deleted (withdrawn); `detail` says where its record
    /// can still be read.
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
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
    /// 429 with `Retry-After`: more requests at once than the database can take now. Nothing of
    /// the request was written; the same request may simply be sent again.
    #[error("too many requests at once; retry after {retry_after_secs} s")]
    Overloaded { retry_after_secs: u64 },
    /// 500: logged with its cause, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// Says what was being done when an internal failure happened, so that its log line reads more
/// than the bare cause ("recording webhook attempts: connection reset"). Answers the client gets
/// (not found, conflict, validation, overload) pass unchanged: they already say what they mean.
pub trait Context<T> {
    fn context(self, doing: &'static str) -> AppResult<T>;
}

impl<T, E: Into<AppError>> Context<T> for Result<T, E> {
    fn context(self, doing: &'static str) -> AppResult<T> {
        self.map_err(|e| match e.into() {
            AppError::Internal(cause) => AppError::Internal(cause.context(doing)),
            other => other,
        })
    }
}

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

/// How long a client should wait after the database itself turned a request away (a pool
/// acquire that timed out, a lock it could not get).
const DATABASE_BUSY_RETRY_AFTER_SECS: u64 = 1;

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // PostgreSQL's statement_timeout (57014): the query itself ran too long, which waiting
            // and retrying the same request will not cure.
            if db.code().is_some_and(|c| c == "57014") {
                return AppError::Unavailable("the request took longer than the database allows; narrow it".into());
            }
        }
        if is_transient_contention(&e) {
            return AppError::Overloaded { retry_after_secs: DATABASE_BUSY_RETRY_AFTER_SECS };
        }
        AppError::Internal(anyhow::Error::new(e))
    }
}

/// Whether the database refused for load rather than for a fault: no pool connection free in
/// time, SQLite's write lock still held when the busy timeout ran out (`SQLITE_BUSY`/`_LOCKED`
/// and their extended codes), or PostgreSQL giving up on a lock, a serialisation conflict, a
/// deadlock victim or its connection limit. The transaction was rolled back, so a retry is safe.
pub fn is_transient_contention(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            matches!(code.as_ref(), "40001" | "40P01" | "55P03" | "53300") || is_sqlite_busy(&code)
        }),
        _ => false,
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

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Executor};

    use super::*;

    /// A second SQLite writer that finds the write lock taken (no busy timeout here, so at once)
    /// gets SQLITE_BUSY through the driver the service uses: that is "retry later", not a fault.
    /// (The service's own connections wait up to 15 s for the lock first.)
    #[tokio::test]
    async fn sqlite_busy_and_pool_timeouts_are_overload_not_internal_errors() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/busy.db?mode=rwc", dir.path().display());
        let mut holder = sqlx::AnyConnection::connect(&url).await.expect("connect");
        holder.execute("CREATE TABLE t (x INTEGER)").await.expect("create");
        holder.execute("BEGIN IMMEDIATE").await.expect("take the write lock");
        let mut other = sqlx::AnyConnection::connect(&url).await.expect("connect");
        other.execute("PRAGMA busy_timeout = 0").await.expect("no waiting");
        let busy = other.execute("BEGIN IMMEDIATE").await.expect_err("the lock is held");
        assert!(matches!(AppError::from(busy), AppError::Overloaded { .. }));
        assert!(matches!(AppError::from(sqlx::Error::PoolTimedOut), AppError::Overloaded { .. }));
        assert!(matches!(AppError::from(sqlx::Error::RowNotFound), AppError::Internal(_)));
    }

    #[test]
    fn context_names_what_failed_and_leaves_client_answers_alone() {
        let failed: Result<(), sqlx::Error> = Err(sqlx::Error::RowNotFound);
        let AppError::Internal(cause) = failed.context("loading the claimed deliveries").unwrap_err() else {
            panic!("an internal error stays internal")
        };
        assert_eq!(format!("{cause:#}"), format!("loading the claimed deliveries: {}", sqlx::Error::RowNotFound));
        let missing: AppResult<()> = Err(AppError::not_found("firm"));
        assert!(matches!(missing.context("reading a firm"), Err(AppError::NotFound { what: "firm" })));
    }
}
