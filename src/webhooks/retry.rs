//! Delivery policy: what a response means, when to try again, when to give up on an endpoint.
//! Pure: the clock and the randomness come from the caller, so every rule is testable exactly.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::config::webhooks::{DEFAULT_SCHEDULE, RetrySchedule, ScheduleError};

/// ±20 %, as svix: spreads the retries of a burst that failed together.
pub const JITTER_FRACTION: f64 = 0.2;
/// After a timeout or throttling the receiver is struggling; hitting it again within seconds
/// only makes that worse.
pub const THROTTLE_FLOOR: Duration = Duration::from_secs(60);
/// Bounds on a receiver's `Retry-After`: the floor stops it pulling retries forward into a
/// tight loop, the ceiling stops it parking a delivery beyond any useful time.
pub const RETRY_AFTER_MIN: Duration = Duration::from_secs(60);
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(24 * 3600);

/// The result of one delivery attempt, as far as the policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Success,
    /// 410: the receiver says the endpoint is gone for good; disable it.
    Gone,
    /// 429, or 503 with a usable `Retry-After`. `retry_after` is as the receiver sent it,
    /// before [`RETRY_AFTER_MIN`]/[`RETRY_AFTER_MAX`] are applied.
    RateLimited { retry_after: Option<Duration> },
    /// No complete response within the request timeout.
    Timeout,
    /// 3xx: never followed, since the target was not the URL the bank registered and checked.
    Redirect { status: u16 },
    /// Any other status (4xx, 5xx, 1xx).
    HttpError { status: u16 },
    /// Connect, TLS or protocol failure before a status arrived (DNS failures included).
    ConnectionError,
    /// The SSRF guard would not deliver to the URL or to what its name resolved to.
    Refused,
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }

    /// 410 disables at once; everything else goes through the failure-streak rule.
    pub fn disables_endpoint(&self) -> bool {
        matches!(self, Outcome::Gone)
    }

    /// Stable code for the attempt log and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Gone => "gone",
            Outcome::RateLimited { .. } => "rate_limited",
            Outcome::Timeout => "timeout",
            Outcome::Redirect { .. } => "redirect",
            Outcome::HttpError { .. } => "http_error",
            Outcome::ConnectionError => "connection_error",
            Outcome::Refused => "refused",
        }
    }

    /// The least the next attempt must wait, whatever the schedule says.
    fn floor(&self) -> Duration {
        match self {
            Outcome::RateLimited { retry_after } => {
                retry_after.unwrap_or(THROTTLE_FLOOR).clamp(RETRY_AFTER_MIN, RETRY_AFTER_MAX)
            }
            Outcome::Timeout => THROTTLE_FLOOR,
            // Bad gateway / gateway timeout: the receiver's front is up but what is behind it
            // is not; the same courtesy as for a timeout.
            Outcome::HttpError { status: 502 | 504 } => THROTTLE_FLOOR,
            _ => Duration::ZERO,
        }
    }
}

/// Classifies a received HTTP response. `retry_after` is the raw header value.
pub fn classify_response(status: u16, retry_after: Option<&str>, now: DateTime<Utc>) -> Outcome {
    let retry_after = || retry_after.and_then(|v| parse_retry_after(v, now));
    match status {
        200..=299 => Outcome::Success,
        410 => Outcome::Gone,
        429 => Outcome::RateLimited { retry_after: retry_after() },
        503 => match retry_after() {
            Some(d) => Outcome::RateLimited { retry_after: Some(d) },
            None => Outcome::HttpError { status },
        },
        300..=399 => Outcome::Redirect { status },
        _ => Outcome::HttpError { status },
    }
}

/// `Retry-After` per RFC 9110: delay-seconds or an HTTP-date (IMF-fixdate, or the obsolete
/// RFC 850 and asctime forms a receiver may still send). A date in the past means "now".
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // An absurdly long number is still a request to wait long; the ceiling handles it.
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = DateTime::parse_from_rfc2822(value).map(|d| d.with_timezone(&Utc)).ok().or_else(|| {
        ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
            .map(|naive| naive.and_utc())
    })?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Uniform samples in [-1, 1] that scale the jitter.
pub trait JitterSource {
    fn next_unit(&mut self) -> f64;
}

/// Jitter from any `rand` generator; `RngJitter(rand::rng())` in production.
pub struct RngJitter<R>(pub R);

impl<R: rand::Rng> JitterSource for RngJitter<R> {
    fn next_unit(&mut self) -> f64 {
        self.0.random_range(-1.0..=1.0)
    }
}

/// Always the same sample: for tests, and for `0.0` = no jitter.
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl JitterSource for FixedJitter {
    fn next_unit(&mut self) -> f64 {
        self.0
    }
}

impl RetrySchedule {
    /// After attempt number `attempt_number` (1-based) ended with `outcome`: how long until the
    /// next one, or `None` when there is none (success, 410, or the schedule is used up).
    pub fn next_attempt_delay(
        &self,
        attempt_number: u32,
        outcome: &Outcome,
        jitter: &mut impl JitterSource,
    ) -> Option<Duration> {
        if outcome.is_success() || outcome.disables_endpoint() {
            return None;
        }
        let base = *self.delays().get(usize::try_from(attempt_number).ok()?)?;
        let unit = jitter.next_unit();
        // A broken source must not panic `mul_f64` nor stretch the delay past ±20 %.
        let unit = if unit.is_finite() { unit.clamp(-1.0, 1.0) } else { 0.0 };
        let jittered = base.mul_f64(1.0 + JITTER_FRACTION * unit);
        Some(jittered.max(outcome.floor()))
    }
}

/// When an endpoint that keeps failing is switched off. Defaults after svix: failing without a
/// single success for 5 days, with failures actually observed across at least 12 h, so that a
/// lone failure whose record lingered (no traffic since) cannot disable an endpoint by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisablePolicy {
    pub failing_for: Duration,
    pub min_failure_span: Duration,
    /// A streak whose last failure is older than this is forgotten: sporadic failures weeks
    /// apart are not one outage. svix uses twice the window.
    pub forget_after: Duration,
}

impl Default for DisablePolicy {
    fn default() -> Self {
        DisablePolicy {
            failing_for: Duration::from_secs(5 * 24 * 3600),
            min_failure_span: Duration::from_secs(12 * 3600),
            forget_after: Duration::from_secs(10 * 24 * 3600),
        }
    }
}

/// An endpoint's unbroken run of failed attempts; cleared by any successful delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureStreak {
    pub first_failure_at: DateTime<Utc>,
    pub last_failure_at: DateTime<Utc>,
}

impl DisablePolicy {
    /// The streak after a failed attempt at `at`.
    pub fn record_failure(&self, streak: Option<FailureStreak>, at: DateTime<Utc>) -> FailureStreak {
        match streak {
            Some(s) if !elapsed_at_least(s.last_failure_at, at, self.forget_after) => {
                FailureStreak { first_failure_at: s.first_failure_at, last_failure_at: s.last_failure_at.max(at) }
            }
            _ => FailureStreak { first_failure_at: at, last_failure_at: at },
        }
    }

    /// Whether to disable now. Called after recording a failure (`now` = that failure's time)
    /// or from a periodic sweep.
    pub fn should_disable(
        &self,
        first_failure_at: DateTime<Utc>,
        last_failure_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        elapsed_at_least(first_failure_at, now, self.failing_for)
            && elapsed_at_least(first_failure_at, last_failure_at, self.min_failure_span)
            && !elapsed_at_least(last_failure_at, now, self.forget_after)
    }
}

fn elapsed_at_least(from: DateTime<Utc>, to: DateTime<Utc>, span: Duration) -> bool {
    match (to - from).to_std() {
        Ok(elapsed) => elapsed >= span,
        // `to` before `from`: no time has elapsed.
        Err(_) => span.is_zero(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn schedule_parsing() {
        let d = RetrySchedule::default();
        assert_eq!(d.attempts(), 8);
        assert_eq!(d.delays(), [0, 5, 300, 1800, 7200, 18000, 36000, 36000].map(secs).as_slice());
        assert_eq!(d.first_delay(), Duration::ZERO);
        assert_eq!(RetrySchedule::parse(DEFAULT_SCHEDULE), Ok(d.clone()));
        let cases: &[(&str, Result<Vec<u64>, ScheduleError>)] = &[
            ("0,5,300", Ok(vec![0, 5, 300])),
            (" 1 , 2 ,3 ", Ok(vec![1, 2, 3])),
            ("60", Ok(vec![60])),
            ("", Err(ScheduleError::Empty)),
            ("   ", Err(ScheduleError::Empty)),
            ("5,,10", Err(ScheduleError::NotANumber(String::new()))),
            ("5,x", Err(ScheduleError::NotANumber("x".into()))),
            ("-5", Err(ScheduleError::NotANumber("-5".into()))),
            ("1.5", Err(ScheduleError::NotANumber("1.5".into()))),
            ("604800", Ok(vec![604_800])),
            ("604801", Err(ScheduleError::TooLong(604_801))),
        ];
        for (spec, want) in cases {
            let got = RetrySchedule::parse(spec).map(|s| s.delays().iter().map(Duration::as_secs).collect::<Vec<_>>());
            assert_eq!(&got, want, "{spec:?}");
        }
        let long = vec!["1"; 51].join(",");
        assert_eq!(RetrySchedule::parse(&long), Err(ScheduleError::TooManyEntries(51)));
    }

    #[test]
    fn next_delay_follows_the_schedule_then_stops() {
        let s = RetrySchedule::default();
        let fail = Outcome::HttpError { status: 500 };
        let mut none = FixedJitter(0.0);
        let got: Vec<Option<u64>> =
            (1..=9).map(|n| s.next_attempt_delay(n, &fail, &mut none).map(|d| d.as_secs())).collect();
        assert_eq!(
            got,
            vec![Some(5), Some(300), Some(1800), Some(7200), Some(18000), Some(36000), Some(36000), None, None]
        );
        assert_eq!(s.next_attempt_delay(u32::MAX, &fail, &mut none), None);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let s = RetrySchedule::default();
        let fail = Outcome::ConnectionError;
        let cases: &[(f64, u64)] = &[
            (-1.0, 1440),
            (-0.5, 1620),
            (0.0, 1800),
            (0.5, 1980),
            (1.0, 2160),
            (7.0, 2160),
            (-7.0, 1440),
            (f64::NAN, 1800),
            (f64::INFINITY, 1800),
        ];
        for (unit, want) in cases {
            let got = s.next_attempt_delay(3, &fail, &mut FixedJitter(*unit));
            assert_eq!(got, Some(secs(*want)), "unit {unit}");
        }
        let mut rng = RngJitter(rand::rng());
        for _ in 0..1000 {
            let d = s.next_attempt_delay(3, &fail, &mut rng).expect("scheduled");
            assert!((secs(1440)..=secs(2160)).contains(&d), "{d:?}");
        }
    }

    #[test]
    fn floors_for_timeouts_throttling_and_gateways() {
        let s = RetrySchedule::default();
        let mut low = FixedJitter(-1.0);
        // After attempt 1 the schedule says 5 s (4 s with jitter).
        let cases: &[(Outcome, Option<u64>)] = &[
            (Outcome::HttpError { status: 500 }, Some(4)),
            (Outcome::HttpError { status: 404 }, Some(4)),
            (Outcome::ConnectionError, Some(4)),
            (Outcome::Redirect { status: 301 }, Some(4)),
            (Outcome::Refused, Some(4)),
            (Outcome::Timeout, Some(60)),
            (Outcome::HttpError { status: 502 }, Some(60)),
            (Outcome::HttpError { status: 504 }, Some(60)),
            (Outcome::RateLimited { retry_after: None }, Some(60)),
            (Outcome::RateLimited { retry_after: Some(secs(1)) }, Some(60)),
            (Outcome::RateLimited { retry_after: Some(secs(120)) }, Some(120)),
            (Outcome::RateLimited { retry_after: Some(secs(7 * 86_400)) }, Some(86_400)),
            (Outcome::Success, None),
            (Outcome::Gone, None),
        ];
        for (outcome, want) in cases {
            let got = s.next_attempt_delay(1, outcome, &mut low).map(|d| d.as_secs());
            assert_eq!(got, *want, "{outcome:?}");
        }
        // A longer scheduled delay wins over a shorter Retry-After: the receiver may slow us
        // down, not hurry us up.
        let got =
            s.next_attempt_delay(4, &Outcome::RateLimited { retry_after: Some(secs(120)) }, &mut FixedJitter(0.0));
        assert_eq!(got, Some(secs(7200)));
        // Throttling does not add attempts beyond the schedule.
        assert_eq!(s.next_attempt_delay(8, &Outcome::Timeout, &mut FixedJitter(0.0)), None);
    }

    #[test]
    fn classify_responses() {
        let now = t("2026-03-01T12:00:00Z");
        let cases: &[(u16, Option<&str>, Outcome)] = &[
            (200, None, Outcome::Success),
            (201, None, Outcome::Success),
            (204, Some("30"), Outcome::Success),
            (299, None, Outcome::Success),
            (101, None, Outcome::HttpError { status: 101 }),
            (300, None, Outcome::Redirect { status: 300 }),
            (301, None, Outcome::Redirect { status: 301 }),
            (302, None, Outcome::Redirect { status: 302 }),
            (304, None, Outcome::Redirect { status: 304 }),
            (307, None, Outcome::Redirect { status: 307 }),
            (308, None, Outcome::Redirect { status: 308 }),
            (400, None, Outcome::HttpError { status: 400 }),
            (401, None, Outcome::HttpError { status: 401 }),
            (404, None, Outcome::HttpError { status: 404 }),
            (410, None, Outcome::Gone),
            (410, Some("60"), Outcome::Gone),
            (429, None, Outcome::RateLimited { retry_after: None }),
            (429, Some("120"), Outcome::RateLimited { retry_after: Some(secs(120)) }),
            (429, Some(" 0 "), Outcome::RateLimited { retry_after: Some(secs(0)) }),
            (429, Some("soon"), Outcome::RateLimited { retry_after: None }),
            (429, Some("Sun, 01 Mar 2026 12:10:00 GMT"), Outcome::RateLimited { retry_after: Some(secs(600)) }),
            (429, Some("Sun, 01 Mar 2026 11:00:00 GMT"), Outcome::RateLimited { retry_after: Some(secs(0)) }),
            (500, None, Outcome::HttpError { status: 500 }),
            (502, None, Outcome::HttpError { status: 502 }),
            (503, None, Outcome::HttpError { status: 503 }),
            (503, Some("300"), Outcome::RateLimited { retry_after: Some(secs(300)) }),
            (503, Some("garbage"), Outcome::HttpError { status: 503 }),
            (504, None, Outcome::HttpError { status: 504 }),
            (599, None, Outcome::HttpError { status: 599 }),
        ];
        for (status, ra, want) in cases {
            assert_eq!(classify_response(*status, *ra, now), *want, "{status} {ra:?}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = t("1994-11-06T08:49:00Z");
        let cases: &[(&str, Option<u64>)] = &[
            ("37", Some(37)),
            ("0", Some(0)),
            ("99999999999999999999999", Some(u64::MAX)),
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(37)),
            ("Sunday, 06-Nov-94 08:49:37 GMT", Some(37)),
            ("Sun Nov  6 08:49:37 1994", Some(37)),
            ("Sun, 06 Nov 1994 08:00:00 GMT", Some(0)),
            ("", None),
            ("-5", None),
            ("1.5", None),
            ("tomorrow", None),
        ];
        for (value, want) in cases {
            assert_eq!(parse_retry_after(value, now).map(|d| d.as_secs()), *want, "{value:?}");
        }
        // And the bounds are applied by the schedule, not here.
        let s = RetrySchedule::default();
        let huge = Outcome::RateLimited { retry_after: parse_retry_after("99999999999999999999999", now) };
        assert_eq!(s.next_attempt_delay(1, &huge, &mut FixedJitter(0.0)), Some(RETRY_AFTER_MAX));
    }

    #[test]
    fn outcome_codes() {
        assert_eq!(Outcome::Refused.as_str(), "refused");
        assert_eq!(Outcome::RateLimited { retry_after: None }.as_str(), "rate_limited");
        assert!(Outcome::Gone.disables_endpoint());
        assert!(!Outcome::HttpError { status: 404 }.disables_endpoint());
    }

    #[test]
    fn disable_rule() {
        let p = DisablePolicy::default();
        let start = t("2026-03-01T00:00:00Z");
        let h = |hours: i64| start + chrono::Duration::hours(hours);
        // (first, last, now, disable?)
        let cases: &[(i64, i64, i64, bool)] = &[
            (0, 0, 0, false),
            (0, 119, 119, false),
            (0, 120, 120, true),
            (0, 200, 200, true),
            // Failing for 5 days by the clock, but only one failure ever seen: not an outage.
            (0, 0, 120, false),
            (0, 11, 130, false),
            (0, 12, 130, true),
            // A streak whose last failure is long past has been forgotten.
            (0, 12, 12 + 240, false),
            (0, 12, 12 + 239, true),
        ];
        for &(first, last, now, want) in cases {
            assert_eq!(p.should_disable(h(first), h(last), h(now)), want, "{first} {last} {now}");
        }
        // Shorter windows are configurable (staging, tests); the span guard still holds.
        let quick = DisablePolicy {
            failing_for: Duration::from_secs(600),
            min_failure_span: Duration::from_secs(300),
            forget_after: Duration::from_secs(3600),
        };
        assert!(!quick.should_disable(
            start,
            start + chrono::Duration::seconds(200),
            start + chrono::Duration::seconds(700)
        ));
        assert!(quick.should_disable(
            start,
            start + chrono::Duration::seconds(300),
            start + chrono::Duration::seconds(700)
        ));
    }

    #[test]
    fn failure_streaks_grow_and_are_forgotten() {
        let p = DisablePolicy::default();
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).single().expect("valid date");
        let h = |hours: i64| start + chrono::Duration::hours(hours);
        let s1 = p.record_failure(None, h(0));
        assert_eq!(s1, FailureStreak { first_failure_at: h(0), last_failure_at: h(0) });
        let s2 = p.record_failure(Some(s1), h(30));
        assert_eq!(s2, FailureStreak { first_failure_at: h(0), last_failure_at: h(30) });
        // Out-of-order recording (two workers) never moves the last failure backwards.
        let s3 = p.record_failure(Some(s2), h(20));
        assert_eq!(s3.last_failure_at, h(30));
        let mut streak = s3;
        for hour in (31..=120).step_by(10) {
            streak = p.record_failure(Some(streak), h(hour));
        }
        assert!(p.should_disable(streak.first_failure_at, streak.last_failure_at, h(121)));
        // Ten days of silence, then a failure: a new streak, not the old one.
        let fresh = p.record_failure(Some(s2), h(30 + 240));
        assert_eq!(fresh.first_failure_at, h(270));
    }
}
