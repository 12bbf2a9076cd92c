//! The webhook settings that need more than a number: the retry schedule and the key that seals
//! signing secrets, checked here once and used by `webhooks::retry` and `webhooks::signing`.

use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

/// `SRDI_WEBHOOKS_RETRY_SCHEDULE` default: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
/// (svix's schedule, ≈ 27.6 h in all).
pub const DEFAULT_SCHEDULE: &str = "0,5,300,1800,7200,18000,36000,36000";
const DEFAULT_DELAYS_SECS: [u64; 8] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

const MAX_SCHEDULE_ENTRIES: usize = 50;
const MAX_SCHEDULE_DELAY: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("retry schedule is empty; give comma-separated seconds such as {DEFAULT_SCHEDULE:?}")]
    Empty,
    #[error("retry schedule entry {0:?} is not a whole number of seconds")]
    NotANumber(String),
    #[error("retry schedule entry {0} s exceeds the 7-day maximum")]
    TooLong(u64),
    #[error("retry schedule has {0} entries; at most 50 are allowed")]
    TooManyEntries(usize),
}

/// Delay before each attempt: entry 0 precedes the first attempt, entry n the (n+1)-th, so the
/// schedule's length is the number of attempts a delivery gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule { delays: DEFAULT_DELAYS_SECS.iter().map(|&s| Duration::from_secs(s)).collect() }
    }
}

impl FromStr for RetrySchedule {
    type Err = ScheduleError;
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        RetrySchedule::parse(spec)
    }
}

impl RetrySchedule {
    pub fn parse(spec: &str) -> Result<Self, ScheduleError> {
        if spec.trim().is_empty() {
            return Err(ScheduleError::Empty);
        }
        let secs = spec
            .split(',')
            .map(|part| {
                let part = part.trim();
                part.parse::<u64>().map_err(|_| ScheduleError::NotANumber(part.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_secs(&secs)
    }

    pub fn from_secs(secs: &[u64]) -> Result<Self, ScheduleError> {
        if secs.is_empty() {
            return Err(ScheduleError::Empty);
        }
        if secs.len() > MAX_SCHEDULE_ENTRIES {
            return Err(ScheduleError::TooManyEntries(secs.len()));
        }
        if let Some(&too_long) = secs.iter().find(|&&s| s > MAX_SCHEDULE_DELAY.as_secs()) {
            return Err(ScheduleError::TooLong(too_long));
        }
        Ok(RetrySchedule { delays: secs.iter().map(|&s| Duration::from_secs(s)).collect() })
    }

    /// How many attempts a delivery gets in all.
    pub fn attempts(&self) -> usize {
        self.delays.len()
    }

    /// Delay before the first attempt (not jittered: 0 means "now" and should stay so).
    pub fn first_delay(&self) -> Duration {
        self.delays.first().copied().unwrap_or(Duration::ZERO)
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }
}

/// Operators paste keys with or without `=` padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretKeyError {
    #[error("the secret key is not valid base64")]
    NotBase64,
    #[error("the secret key must decode to 32 bytes, it decodes to {0}")]
    Length(usize),
}

/// The 32-byte key from `SRDI_WEBHOOKS_SECRET_KEY` that seals webhook signing secrets in the
/// database. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBoxKey([u8; 32]);

impl SecretBoxKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        SecretBoxKey(key)
    }

    /// Reads the key as operators write it: base64 with or without `=` padding; surrounding
    /// whitespace is ignored because keys arrive from environment variables and files that often
    /// end in a newline.
    pub fn from_base64(text: &str) -> Result<Self, SecretKeyError> {
        let bytes = LENIENT_BASE64.decode(text.trim()).map_err(|_| SecretKeyError::NotBase64)?;
        bytes.as_slice().try_into().map(SecretBoxKey).map_err(|_| SecretKeyError::Length(bytes.len()))
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SecretBoxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBoxKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_forms() {
        let k32 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        let cases: Vec<(String, Result<(), SecretKeyError>)> = vec![
            (k32.clone(), Ok(())),
            (format!("  {k32}\n"), Ok(())),
            (k32.trim_end_matches('=').to_owned(), Ok(())),
            (base64::engine::general_purpose::STANDARD.encode([1u8; 31]), Err(SecretKeyError::Length(31))),
            (base64::engine::general_purpose::STANDARD.encode([1u8; 33]), Err(SecretKeyError::Length(33))),
            (String::new(), Err(SecretKeyError::Length(0))),
            ("not base64 at all!".to_owned(), Err(SecretKeyError::NotBase64)),
        ];
        for (input, want) in cases {
            assert_eq!(SecretBoxKey::from_base64(&input).map(|_| ()), want, "{input:?}");
        }
        let key = SecretBoxKey::from_base64(&k32).expect("parses");
        assert_eq!(format!("{key:?}"), "SecretBoxKey(***)");
        assert_eq!(SecretBoxKey::from_base64(&key.to_base64()), Ok(key));
    }
}
