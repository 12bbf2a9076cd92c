//! Per-endpoint limits in one instance: how many deliveries an endpoint may have claimed and in
//! flight here, and its rate limit as a GCRA token bucket.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

/// A claimed delivery waits at most this long for its endpoint's rate limit before being given
/// back to the queue.
pub(super) const RATE_WAIT_HORIZON: Duration = Duration::from_secs(1);
/// Deliveries one endpoint may hold claimed in this instance, as a multiple of its concurrency
/// cap; the excess goes back to the queue so one slow endpoint cannot hog a round.
pub(super) const CLAIM_FACTOR: u32 = 4;

/// Per-endpoint limits in this instance.
pub(super) struct EndpointLimit {
    pub(super) concurrency: Arc<Semaphore>,
    pub(super) cap: u32,
    /// GCRA theoretical arrival time.
    pub(super) tat: Instant,
    /// Deliveries of this endpoint claimed and not yet finished here.
    pub(super) outstanding: u32,
}

/// The GCRA decision: `Ok(when)` to send at `when` (reserving the slot), `Err(wait)` when the
/// next slot is further away than the horizon. Burst: one second's worth of the rate.
pub(super) fn gcra(tat: &mut Instant, rate_per_sec: u32, now: Instant, horizon: Duration) -> Result<Instant, Duration> {
    let rate = rate_per_sec.max(1);
    let interval = Duration::from_secs(1) / rate;
    let tolerance = interval * (rate - 1);
    let base = (*tat).max(now);
    let allowed_at = base.checked_sub(tolerance).unwrap_or(now).max(now);
    if allowed_at > now + horizon {
        return Err(allowed_at - now);
    }
    *tat = base + interval;
    Ok(allowed_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_allows_a_seconds_burst_then_paces() {
        let start = Instant::now();
        let mut tat = start;
        // 10/s: ten at once, the eleventh a tenth of a second later.
        for _ in 0..10 {
            assert_eq!(gcra(&mut tat, 10, start, RATE_WAIT_HORIZON), Ok(start));
        }
        assert_eq!(gcra(&mut tat, 10, start, RATE_WAIT_HORIZON), Ok(start + Duration::from_millis(100)));
        // Reserving far ahead is refused with the wait.
        let mut tat = start + Duration::from_secs(5);
        assert_eq!(gcra(&mut tat, 10, start, RATE_WAIT_HORIZON), Err(Duration::from_millis(4100)));
        // 1/s: one now, the next a second later, then beyond the horizon.
        let mut tat = start;
        assert_eq!(gcra(&mut tat, 1, start, RATE_WAIT_HORIZON), Ok(start));
        assert_eq!(gcra(&mut tat, 1, start, RATE_WAIT_HORIZON), Ok(start + Duration::from_secs(1)));
        assert!(gcra(&mut tat, 1, start, RATE_WAIT_HORIZON).is_err());
        // Idle time refills the bucket.
        let later = start + Duration::from_secs(10);
        assert_eq!(gcra(&mut tat, 1, later, RATE_WAIT_HORIZON), Ok(later));
    }
}
