//! Admission control in front of the database pool. A burst larger than the pool (hundreds of
//! funds registering the moment a roadshow opens) would otherwise pile up on the pool, and the
//! requests that wait longest would fail with a pool timeout. Here a fixed number of requests run
//! at once; the next ones wait in a bounded first-come-first-served queue for a limited time; the
//! rest are answered at once with 429 and `Retry-After`. A request turned away wrote nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::AppState;
use crate::config::Config;
use crate::error::AppError;

pub struct Admission {
    slots: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
    queue_timeout: Duration,
}

/// Counts a request in the queue for as long as it waits, however the wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    pub fn new(slots: usize, max_waiting: usize, queue_timeout: Duration) -> Admission {
        Admission { slots: Semaphore::new(slots.max(1)), waiting: AtomicUsize::new(0), max_waiting, queue_timeout }
    }

    pub fn from_config(config: &Config) -> Admission {
        Admission::new(
            config.admission_slots(),
            config.admission_queue as usize,
            Duration::from_millis(config.admission_queue_timeout_ms),
        )
    }

    /// A place to run, held until the returned permit is dropped; `Overloaded` when the queue is
    /// full or the wait ran past the deadline. The semaphore is fair, so waiters run in arrival order.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, AppError> {
        if let Ok(permit) = self.slots.try_acquire() {
            return Ok(permit);
        }
        let ahead = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&self.waiting);
        if ahead >= self.max_waiting {
            return Err(self.refusal("queue_full"));
        }
        match tokio::time::timeout(self.queue_timeout, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(self.refusal("queue_timeout")),
        }
    }

    fn refusal(&self, reason: &'static str) -> AppError {
        metrics::counter!("http_admission_refused_total", "reason" => reason).increment(1);
        AppError::Overloaded { retry_after_secs: self.queue_timeout.as_secs_f64().ceil().max(1.0) as u64 }
    }
}

/// Paths that never touch the database (or must answer even under a burst) skip the queue.
fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/openapi.json")
        || path.starts_with("/assets/")
        || path == "/docs"
        || path.starts_with("/docs/")
}

pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let Some(state) = state.filter(|_| !exempt(req.path())) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    match state.admission.enter().await {
        Ok(_permit) => next.call(req).await.map(ServiceResponse::map_into_boxed_body),
        Err(refused) => Ok(req.into_response(refused.error_response())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_in_order_then_refuses_past_the_queue_or_the_deadline() {
        let admission = Admission::new(1, 1, Duration::from_millis(50));
        let first = admission.enter().await.expect("a free slot");
        // One may wait; the next finds the queue full at once.
        let (waited, refused) = tokio::join!(admission.enter(), async {
            tokio::task::yield_now().await;
            admission.enter().await
        });
        assert!(matches!(refused, Err(AppError::Overloaded { retry_after_secs: 1 })));
        // The waiter's deadline passed while the slot was held.
        assert!(matches!(waited, Err(AppError::Overloaded { .. })));
        drop(first);
        assert!(admission.enter().await.is_ok(), "a released slot is free again");
        assert_eq!(admission.waiting.load(Ordering::Acquire), 0, "nobody counted as waiting any more");
    }
}
