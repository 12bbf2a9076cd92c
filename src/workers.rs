//! Background workers that run inside the service process (switch off per instance with
//! `SRDI_WORKERS_ENABLED=false`). Each worker polls durable state in the database, so work
//! survives restarts, and stops when the shutdown token is cancelled.

use std::sync::Arc;

use tokio::task::JoinHandle;
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

/// Starts the workers this instance runs. Register new workers here.
pub fn spawn_all(ctx: &WorkerContext) -> Vec<JoinHandle<()>> {
    let mut handles: Vec<JoinHandle<()>> = Vec::new();
    if !ctx.config.workers_enabled {
        return handles;
    }
    handles.push(tokio::spawn(crate::webhooks::dispatcher::run(ctx.clone())));
    handles.push(tokio::spawn(crate::mail::outbox::run(ctx.clone())));
    handles.push(tokio::spawn(crate::service::matching::run_worker(ctx.clone())));
    handles
}
