//! API-key verification with a cache, so that a request's key costs no database round trip, and
//! revocation that reaches every instance at once.
//!
//! A verified key is kept for at most `SRDI_API_KEY_CACHE_TTL_SECS`. On PostgreSQL a trigger on
//! `api_keys` sends `NOTIFY api_keys_changed, '<key id>'` when a key row changes, from whichever
//! process changed it (the API, the CLI, another instance); [`listen`] drops the key from this
//! instance's cache when the notification arrives. While the listening connection is down the
//! cache is not used at all, and it is emptied whenever listening starts again, so a notification
//! lost in between cannot keep a revoked key alive. On SQLite (one serving instance per file) the
//! instance drops the key itself after committing a revocation; the TTL bounds a revocation made
//! by the CLI while the service runs.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::{Db, Dialect};
use crate::domain::access::{Principal, Role};
use crate::error::AppResult;
pub use crate::store::keys::ApiKeyInfo;
use crate::store::{Conn, keys};

/// The channel the PostgreSQL trigger of migration 0013 notifies.
pub const CHANNEL: &str = "api_keys_changed";

pub struct KeyCache {
    ttl: Duration,
    /// Whether cached entries may be used: always on SQLite; on PostgreSQL only while this
    /// instance is listening for changes.
    trusted: AtomicBool,
    state: RwLock<Entries>,
}

#[derive(Default)]
struct Entries {
    by_hash: HashMap<String, (Principal, Instant)>,
    /// Raised by every invalidation, under the same lock: a lookup that started before an
    /// invalidation does not store what it read.
    generation: u64,
}

impl KeyCache {
    pub fn new(dialect: Dialect, ttl: Duration) -> KeyCache {
        KeyCache { ttl, trusted: AtomicBool::new(dialect == Dialect::Sqlite), state: RwLock::new(Entries::default()) }
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.trusted.load(Ordering::Acquire)
    }

    fn cached(&self, key_hash: &str) -> Option<Principal> {
        if !self.enabled() {
            return None;
        }
        let entries = self.state.read().unwrap_or_else(|e| e.into_inner());
        entries.by_hash.get(key_hash).filter(|(_, at)| at.elapsed() < self.ttl).map(|(p, _)| *p)
    }

    fn generation(&self) -> u64 {
        self.state.read().unwrap_or_else(|e| e.into_inner()).generation
    }

    fn remember(&self, key_hash: String, principal: Principal, read_at_generation: u64) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.state.write().unwrap_or_else(|e| e.into_inner());
        if entries.generation != read_at_generation {
            return;
        }
        let ttl = self.ttl;
        // Entries of keys no longer used would otherwise stay until their key is revoked.
        if entries.by_hash.len() >= 10_000 {
            entries.by_hash.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        entries.by_hash.insert(key_hash, (principal, Instant::now()));
    }

    /// Forgets one key (its row changed).
    pub fn forget(&self, key_id: Uuid) {
        let mut entries = self.state.write().unwrap_or_else(|e| e.into_inner());
        entries.generation += 1;
        entries.by_hash.retain(|_, (p, _)| p.key_id != key_id);
    }

    fn forget_all(&self) {
        let mut entries = self.state.write().unwrap_or_else(|e| e.into_inner());
        entries.generation += 1;
        entries.by_hash.clear();
    }

    fn set_trusted(&self, trusted: bool) {
        if !trusted {
            self.trusted.store(false, Ordering::Release);
        }
        self.forget_all();
        if trusted {
            self.trusted.store(true, Ordering::Release);
        }
    }

    /// Waits (at most `timeout`) until revocations are being received, so that an instance starts
    /// serving with its cache in use; without them it still serves, checking every key in the database.
    pub async fn wait_until_listening(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.trusted.load(Ordering::Acquire) {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// The principal of a live key: from the cache, or from the database (one query) and then cached.
    pub async fn authenticate(&self, db: &Db, plaintext: &str) -> AppResult<Option<Principal>> {
        let key_hash = keys::hash_key(plaintext);
        if let Some(p) = self.cached(&key_hash) {
            return Ok(Some(p));
        }
        let generation = self.generation();
        let mut conn = db.pool().acquire().await?;
        let principal = keys::principal_by_hash(&mut conn, &key_hash).await?;
        if let Some(p) = principal {
            self.remember(key_hash, p, generation);
        }
        Ok(principal)
    }
}

/// Revokes a key (the office). Revoking twice answers the revoked key again. The key stops
/// working in this instance when this returns, and in every other instance on PostgreSQL as
/// soon as the notification of the commit reaches it.
#[tracing::instrument(skip_all, fields(key_id = %caller.key_id))]
pub async fn revoke(
    db: &Db,
    cache: &KeyCache,
    caller: &Principal,
    key_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<ApiKeyInfo> {
    caller.require_admin()?;
    let mut tx = db.begin().await?;
    let info = keys::revoke(&mut tx, &key_id.to_string(), now).await?;
    tx.commit().await?;
    cache.forget(info.id);
    tracing::info!(key_id = %info.id, "API key revoked");
    Ok(info)
}

/// Listens for changed keys on PostgreSQL until `shutdown`, reconnecting after a lost connection.
#[tracing::instrument(skip_all)]
pub async fn listen(database_url: String, cache: std::sync::Arc<KeyCache>, shutdown: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    while !shutdown.is_cancelled() {
        match listen_once(&database_url, &cache, &shutdown).await {
            Ok(()) => return,
            Err(e) => {
                cache.set_trusted(false);
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64,
                    "API key change notifications interrupted; keys are checked in the database meanwhile");
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

async fn listen_once(url: &str, cache: &KeyCache, shutdown: &CancellationToken) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    cache.set_trusted(true);
    loop {
        let note = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            note = listener.try_recv() => note?,
        };
        match note {
            Some(n) => match n.payload().parse::<Uuid>() {
                Ok(id) => cache.forget(id),
                Err(_) => cache.forget_all(),
            },
            None => return Err(sqlx::Error::Protocol("the notification connection was closed".into())),
        }
    }
}

/// Issues a key for a role and its subject (none for admin); returns its record and the key,
/// which is not kept.
#[tracing::instrument(skip_all, fields(role = %role))]
pub async fn issue(
    conn: &mut Conn,
    role: Role,
    subject_id: Option<Uuid>,
    label: &str,
    now: DateTime<Utc>,
) -> AppResult<(ApiKeyInfo, String)> {
    keys::create(conn, role, subject_id, label, now).await
}

/// Every key, revoked ones included.
#[tracing::instrument(skip_all)]
pub async fn list(conn: &mut Conn) -> AppResult<Vec<ApiKeyInfo>> {
    keys::list(conn).await
}

/// Revokes a key named by its id or its prefix, for the command line (another instance's cache
/// learns of it through the database's notification, or within the cache's TTL on SQLite).
#[tracing::instrument(skip_all)]
pub async fn revoke_by_id_or_prefix(conn: &mut Conn, id_or_prefix: &str, now: DateTime<Utc>) -> AppResult<ApiKeyInfo> {
    keys::revoke(conn, id_or_prefix, now).await
}
