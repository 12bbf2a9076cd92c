//! What the background workers share. It sits below the modules that run a worker (mail,
//! webhooks, service) so that `workers`, which starts them, is the only module that names them all.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;

/// What every worker gets.
#[derive(Clone)]
pub struct WorkerContext {
    pub db: Db,
    pub clock: SharedClock,
    pub config: Arc<Config>,
    pub shutdown: CancellationToken,
}
