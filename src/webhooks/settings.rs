//! The webhook settings derived from [`Config`]: SSRF policy, retry schedule, the key that seals
//! signing secrets, and the key file `demo` keeps under `./data`.

use std::path::Path;
use std::time::Duration;

use super::retry::RetrySchedule;
use super::signing::{SecretBox, SecretBoxKey};
use super::ssrf::SsrfPolicy;
use crate::config::Config;
use crate::error::AppError;

pub const SECRET_KEY_SETTING: &str = "SRDI_WEBHOOKS_SECRET_KEY";

pub fn ssrf_policy(config: &Config) -> SsrfPolicy {
    SsrfPolicy { allow_networks: config.webhooks_allow_networks.clone(), allow_http: config.webhooks_allow_http }
}

pub fn retry_schedule(config: &Config) -> RetrySchedule {
    config.webhooks_retry_schedule.clone()
}

pub fn request_timeout(config: &Config) -> Duration {
    Duration::from_millis(config.webhooks_request_timeout_ms)
}

/// The box that seals and opens signing secrets; 503 naming the setting when it is not set.
pub fn secret_box(config: &Config) -> Result<SecretBox, AppError> {
    match &config.webhooks_secret_key {
        Some(key) => Ok(SecretBox::new(key)),
        None => Err(AppError::Unavailable(format!(
            "webhook endpoints need {SECRET_KEY_SETTING} (32 random bytes, base64, e.g. `openssl rand -base64 32`) \
             to encrypt signing secrets; the operator has not set it"
        ))),
    }
}

/// For `demo`: the key from `path` (next to the SQLite file), created with fresh random bytes on
/// first use and readable by the owner only. The key never appears in output or logs.
pub fn load_or_create_key_file(path: &Path) -> anyhow::Result<SecretBoxKey> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return SecretBoxKey::from_base64(&text)
            .map_err(|e| anyhow::anyhow!("{} does not hold a usable key: {e}", path.display()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let key = SecretBoxKey::generate();
    write_private(path, &format!("{}\n", key.to_base64()))?;
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_is_a_503_naming_the_setting() {
        let err = secret_box(&Config::default()).expect_err("no key");
        assert!(matches!(&err, AppError::Unavailable(m) if m.contains(SECRET_KEY_SETTING)), "{err:?}");
        let c = Config { webhooks_secret_key: Some(SecretBoxKey::generate()), ..Config::default() };
        assert!(secret_box(&c).is_ok());
    }

    #[test]
    fn demo_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("data/webhooks-secret.key");
        let a = load_or_create_key_file(&path).expect("created");
        let b = load_or_create_key_file(&path).expect("read back");
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "garbage").expect("overwrite");
        assert!(load_or_create_key_file(&path).is_err());
    }

    #[test]
    fn policy_and_schedule_from_config() {
        let c = Config {
            webhooks_allow_networks: vec!["127.0.0.1/32".parse().expect("network")],
            webhooks_allow_http: true,
            webhooks_retry_schedule: RetrySchedule::from_secs(&[0, 1]).expect("schedule"),
            ..Config::default()
        };
        let p = ssrf_policy(&c);
        assert_eq!(p.allow_networks.len(), 1);
        assert!(p.allow_http);
        assert_eq!(retry_schedule(&c).attempts(), 2);
        assert_eq!(retry_schedule(&Config::default()), RetrySchedule::default());
    }
}
