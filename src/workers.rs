//! Background workers that run inside the service process (switch off per instance with
//! `SRDI_WORKERS_ENABLED=false`). Each worker polls durable state in the database, so work
//! survives restarts, and stops when the shutdown token is cancelled.

use tokio::task::JoinHandle;

pub use crate::runtime::WorkerContext;

/// Starts the workers this instance runs. Register new workers here.
pub fn spawn_all(ctx: &WorkerContext) -> Vec<JoinHandle<()>> {
    let mut handles: Vec<JoinHandle<()>> = Vec::new();
    if !ctx.config.workers_enabled {
        return handles;
    }
    handles.push(tokio::spawn(crate::service::webhook_dispatcher::run(ctx.clone())));
    handles.push(tokio::spawn(crate::mail::outbox::run(ctx.clone())));
    handles.push(tokio::spawn(crate::service::matching::run_worker(ctx.clone())));
    handles
}
