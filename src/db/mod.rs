//! The one database handle. Both backends are reached through sqlx's `Any` driver so that every
//! query is written once; the column encodings that make that possible live in [`types`], and the
//! few real dialect differences live in [`Dialect`].

pub mod row;
pub mod types;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub type Tx = Transaction<'static, Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub fn from_url(url: &str) -> Dialect {
        if url.starts_with("sqlite:") { Dialect::Sqlite } else { Dialect::Postgres }
    }

    /// How many bind parameters one batched statement should carry. SQLite looks parameter names up
    /// by a linear scan, so binding costs grow with the square of the count: keep its statements
    /// small. PostgreSQL takes up to 65,535 and gains from large batches.
    pub fn batch_params(self) -> usize {
        match self {
            Dialect::Postgres => 8_000,
            Dialect::Sqlite => 400,
        }
    }

    /// Rows per batched statement of `columns` parameters each.
    pub fn batch_rows(self, columns: usize) -> usize {
        (self.batch_params() / columns.max(1)).max(1)
    }

    /// The dialect of an open connection (for store functions that take only a connection).
    pub fn of(conn: &sqlx::AnyConnection) -> Dialect {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") { Dialect::Sqlite } else { Dialect::Postgres }
    }

    /// A FROM item that expands a JSON array of objects, bound as the one text parameter `$param`,
    /// into rows named `alias` with the given columns, so that a whole batch travels as a single
    /// bind instead of one bind per value (parameter handling dominated large multi-row VALUES on
    /// both backends). The rest of a statement is written once: columns are `alias.name` on both.
    /// `cols` are (key, PostgreSQL type); a JSON null becomes NULL, a JSON string its text.
    /// A dialect branch because the two backends expand JSON with different functions.
    pub fn json_rows(self, param: usize, alias: &str, cols: &[(&str, &str)]) -> String {
        match self {
            Dialect::Postgres => {
                let typed: Vec<String> = cols.iter().map(|(name, ty)| format!("{name} {ty}")).collect();
                format!("json_to_recordset(${param}::json) AS {alias}({})", typed.join(", "))
            }
            Dialect::Sqlite => {
                let fields: Vec<String> =
                    cols.iter().map(|(name, _)| format!("value ->> '{name}' AS {name}")).collect();
                format!("(SELECT {} FROM json_each(${param})) AS {alias}", fields.join(", "))
            }
        }
    }

    /// Row locking for work queues. SQLite serialises writers (one instance per file), so it needs none.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("dialect", &self.dialect).finish_non_exhaustive()
    }
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        Db::connect_with(url, max_connections, None).await
    }

    /// Connects as configured: pool size and the PostgreSQL statement timeout.
    pub async fn from_config(config: &crate::config::Config) -> anyhow::Result<Db> {
        let timeout = Some(config.database_statement_timeout_ms).filter(|ms| *ms > 0).map(Duration::from_millis);
        Db::connect_with(config.database_url.expose(), config.database_max_connections, timeout).await
    }

    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        statement_timeout: Option<Duration>,
    ) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::from_url(url);
        let url = match dialect {
            Dialect::Sqlite => prepare_sqlite_url(url)?,
            Dialect::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL lets readers proceed while one writer works; the busy timeout makes
                        // a second writer wait for the lock instead of failing at once.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 15000").await?;
                    }
                    if dialect == Dialect::Postgres {
                        // Every statement is prepared once per connection. Left to choose,
                        // PostgreSQL re-plans the bank pull at every execution (its custom plan
                        // looks cheaper than the generic one), and planning costs more than
                        // running it. Generic plans are planned once; they are as good here
                        // because page sizes are written into the SQL as literals, not bound.
                        conn.execute("SET plan_cache_mode = force_generic_plan").await?;
                    }
                    if let (Dialect::Postgres, Some(limit)) = (dialect, statement_timeout) {
                        conn.execute(format!("SET statement_timeout = {}", limit.as_millis()).as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db { pool, dialect })
    }

    /// Refreshes the planner's statistics after a bulk write. Without it PostgreSQL plans the
    /// first queries on a freshly imported population as if the tables were still small, and a
    /// bank's first pull can choose a plan that does not finish.
    pub async fn refresh_statistics(&self) -> Result<(), sqlx::Error> {
        let sql = match self.dialect {
            Dialect::Postgres => "ANALYZE",
            Dialect::Sqlite => "PRAGMA optimize",
        };
        self.pool.execute(sql).await.map(|_| ())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.dialect {
            Dialect::Sqlite => &SQLITE_MIGRATOR,
            Dialect::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads first and writes later can fail with SQLITE_BUSY when
    /// another writer got there in between, and the busy timeout cannot help with that.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the SQLite file's folder and asks the driver to create the file on first start.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && !path.is_empty()
        && let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}
