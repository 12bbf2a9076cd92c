//! What orders matching transactions and remembers their progress: the change sequence
//! (`match_clock`), the PostgreSQL advisory lock, and the named watermarks (`match_state`).
//! The lock order every writer follows is in the parent module's documentation.

use super::Conn;
use crate::db::Dialect;
use crate::db::row::RowExt;
use crate::error::AppResult;

/// Takes the next change sequence number. The `match_clock` row stays locked until the caller's
/// transaction ends, so sequence order is commit order.
pub async fn next_seq(conn: &mut Conn) -> AppResult<i64> {
    let row =
        sqlx::query("UPDATE match_clock SET seq = seq + 1 WHERE id = 1 RETURNING seq").fetch_one(&mut *conn).await?;
    Ok(row.int("seq")?)
}

/// The highest sequence number committed so far: every row with a lower or equal `seq` is visible.
pub async fn high_water(conn: &mut Conn) -> AppResult<i64> {
    let row = sqlx::query("SELECT seq FROM match_clock WHERE id = 1").fetch_one(&mut *conn).await?;
    Ok(row.int("seq")?)
}

/// Key of the PostgreSQL advisory lock that orders matching transactions.
const ADVISORY_KEY: i64 = 0x5352_4449_0004; // "SRDI" + 4: unique among the advisory locks the service takes

/// Lets matching transactions of single firms run side by side (PostgreSQL; SQLite has one writer).
pub async fn lock_shared(conn: &mut Conn, dialect: Dialect) -> AppResult<()> {
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(ADVISORY_KEY).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Keeps every other matching transaction out while a product step or the rematch runs.
pub async fn lock_exclusive(conn: &mut Conn, dialect: Dialect) -> AppResult<()> {
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(ADVISORY_KEY).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Reads a watermark, locking it on PostgreSQL so that two workers do not process the same span.
pub async fn lock_state(conn: &mut Conn, dialect: Dialect, name: &str) -> AppResult<Option<String>> {
    sqlx::query("INSERT INTO match_state (name, value) VALUES ($1, '') ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    let lock = if dialect == Dialect::Postgres { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!("SELECT value FROM match_state WHERE name = $1{lock}"))
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Some(row.text("value")?).filter(|v| !v.is_empty()))
}

/// Reads a watermark without locking it.
pub async fn read_state(conn: &mut Conn, name: &str) -> AppResult<Option<String>> {
    let row =
        sqlx::query("SELECT value FROM match_state WHERE name = $1").bind(name).fetch_optional(&mut *conn).await?;
    Ok(row.map(|r| r.text("value")).transpose()?.filter(|v| !v.is_empty()))
}

pub async fn put_state(conn: &mut Conn, name: &str, value: &str) -> AppResult<()> {
    sqlx::query("UPDATE match_state SET value = $2 WHERE name = $1").bind(name).bind(value).execute(&mut *conn).await?;
    Ok(())
}
