//! Configuration: built-in defaults → optional TOML file → `SRDI_*` environment variables.
//! Validated once at start; a bad value stops the process with a message naming the setting.

pub mod smtp;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};

/// A value that must never reach logs or `Debug` output.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://path` (embedded default) or `postgres://…`. May carry a password: kept secret.
    pub database_url: Secret,
    pub database_max_connections: u32,
    /// PostgreSQL `statement_timeout` of every pooled connection, in milliseconds (0: none), so a
    /// runaway query cannot outlive its client by minutes; such a request answers 503.
    pub database_statement_timeout_ms: u64,
    /// Requests served at once; the rest wait in the admission queue. 0: the pool size, so a
    /// request that got in finds a free connection.
    pub admission_in_flight: u32,
    /// Requests that may wait for a place; beyond that they are answered 429 at once.
    pub admission_queue: u32,
    /// How long a request may wait in the queue before it is answered 429 (also its `Retry-After`).
    pub admission_queue_timeout_ms: u64,
    /// How long a verified API key is trusted without asking the database again. Revocations reach
    /// every instance at once through PostgreSQL notifications (and this process's own at once on
    /// SQLite); this bound covers a lost notification or a revocation by another process on SQLite.
    /// 0 turns the cache off.
    pub api_key_cache_ttl_secs: u64,
    pub listen: SocketAddr,
    /// Where Prometheus scrapes `/metrics`: a listener of its own, on loopback by default, so the
    /// public port does not expose the service's internals. Empty or `off`: no metrics listener.
    pub metrics_listen: String,
    /// Base URL printed by `demo` and used in links; defaults to `http://{listen}`.
    pub public_base_url: Option<String>,
    pub log_format: LogFormat,
    /// Largest request body accepted (bulk imports are the big ones).
    pub max_body_bytes: usize,
    /// Run background workers (webhook dispatcher, mail sender, matching queue) in this instance.
    pub workers_enabled: bool,
    /// CIDRs exempt from the webhook SSRF guard (e.g. `127.0.0.1/32` for local receivers).
    #[serde(deserialize_with = "comma_separated")]
    pub webhooks_allow_networks: Vec<String>,
    pub webhooks_allow_http: bool,
    /// Seconds between delivery attempts, comma-separated.
    #[serde(deserialize_with = "comma_separated")]
    pub webhooks_retry_schedule: Vec<String>,
    /// 32 bytes, base64: encrypts webhook signing secrets at rest. Empty: the service refuses to
    /// create endpoints or rotate secrets (503 naming this setting); `demo` generates one and keeps
    /// it in `./data/webhooks-secret.key`.
    pub webhooks_secret_key: Secret,
    /// How long a rotated-out signing secret keeps signing alongside the new one.
    pub webhooks_rotation_overlap_hours: u32,
    /// Time allowed for one delivery attempt (connect, send, response), in milliseconds.
    pub webhooks_request_timeout_ms: u64,
    /// How often an idle dispatcher looks for due deliveries, in milliseconds.
    pub webhooks_poll_interval_ms: u64,
    /// Deliveries claimed per round; the dispatcher claims again at once when a round was full.
    pub webhooks_batch_size: u32,
    /// Requests in flight at once in this instance (each endpoint also has its own cap).
    pub webhooks_max_in_flight: u32,
    /// Days signed payloads and the attempt log are kept (at least 30).
    pub webhooks_retention_days: u32,
    /// `smtps://user:pass@host` / `smtp://user:pass@host?tls=required`; credentials without TLS are
    /// refused (see `mail::transport`); unset: mails are written under `mail_dir`.
    pub smtp_url: Option<Secret>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    /// Seconds each SMTP command may take before the attempt counts as failed (and is retried).
    pub smtp_timeout_secs: u64,
    /// Seconds between mail delivery attempts, comma-separated; when used up the mail is `failed`.
    #[serde(deserialize_with = "comma_separated")]
    pub mail_retry_schedule: Vec<String>,
    /// How often the mail worker looks for due mails, in milliseconds.
    pub mail_poll_interval_ms: u64,
    /// How long a claimed mail stays reserved for its sender; must exceed an SMTP attempt.
    pub mail_lease_secs: u64,
    /// Mails claimed per round.
    pub mail_batch_size: u32,
    /// A web session ends after this many minutes without a page load.
    pub session_idle_minutes: u32,
    /// A web session ends this many hours after sign-in, however active.
    pub session_max_hours: u32,
}

fn comma_separated<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        List(Vec<serde_json::Value>),
        Text(String),
        Number(u64),
    }
    Ok(match Form::deserialize(d)? {
        Form::List(items) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            })
            .collect(),
        Form::Text(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
        Form::Number(n) => vec![n.to_string()],
    })
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: Secret::new("sqlite://./data/srdi-capital.db"),
            database_max_connections: 8,
            database_statement_timeout_ms: 30_000,
            admission_in_flight: 0,
            admission_queue: 1024,
            admission_queue_timeout_ms: 2000,
            api_key_cache_ttl_secs: 30,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: "127.0.0.1:9464".into(),
            public_base_url: None,
            log_format: LogFormat::Text,
            max_body_bytes: 32 * 1024 * 1024,
            workers_enabled: true,
            webhooks_allow_networks: Vec::new(),
            webhooks_allow_http: false,
            webhooks_retry_schedule: "0,5,300,1800,7200,18000,36000,36000".split(',').map(String::from).collect(),
            webhooks_secret_key: Secret::default(),
            webhooks_rotation_overlap_hours: 24,
            webhooks_request_timeout_ms: 15_000,
            webhooks_poll_interval_ms: 100,
            webhooks_batch_size: 100,
            webhooks_max_in_flight: 256,
            webhooks_retention_days: 30,
            smtp_url: None,
            mail_dir: PathBuf::from("./data/mail"),
            mail_from: "srdi-capital <noreply@srdi-capital.local>".to_owned(),
            smtp_timeout_secs: 30,
            mail_retry_schedule: "60,300,900,1800,3600,7200,14400,28800".split(',').map(String::from).collect(),
            mail_poll_interval_ms: 1000,
            mail_lease_secs: 300,
            mail_batch_size: 20,
            session_idle_minutes: 30,
            session_max_hours: 12,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Read(#[from] Box<figment::Error>),
    #[error("setting `{setting}` is invalid: {reason}")]
    Invalid { setting: &'static str, reason: String },
}

impl Config {
    /// Defaults, then the TOML file at `file` (if given, or `SRDI_CONFIG`), then `SRDI_*` variables.
    pub fn load(file: Option<&std::path::Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        let file = file.map(PathBuf::from).or_else(|| std::env::var_os("SRDI_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("SRDI_").ignore(&["CONFIG"]));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database_url.expose();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid {
                setting: "SRDI_DATABASE_URL",
                reason: "must start with sqlite:, postgres:// or postgresql://".into(),
            });
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError::Invalid {
                setting: "SRDI_DATABASE_MAX_CONNECTIONS",
                reason: "must be at least 1".into(),
            });
        }
        if self.admission_queue > 100_000 {
            return Err(ConfigError::Invalid {
                setting: "SRDI_ADMISSION_QUEUE",
                reason: "must be at most 100000".into(),
            });
        }
        if !(1..=60_000).contains(&self.admission_queue_timeout_ms) {
            return Err(ConfigError::Invalid {
                setting: "SRDI_ADMISSION_QUEUE_TIMEOUT_MS",
                reason: "must be between 1 and 60000".into(),
            });
        }
        if self.api_key_cache_ttl_secs > 3600 {
            return Err(ConfigError::Invalid {
                setting: "SRDI_API_KEY_CACHE_TTL_SECS",
                reason: "must be at most 3600 (revocations by another process on SQLite wait this long)".into(),
            });
        }
        for net in &self.webhooks_allow_networks {
            net.parse::<ipnet::IpNet>().map_err(|e| ConfigError::Invalid {
                setting: "SRDI_WEBHOOKS_ALLOW_NETWORKS",
                reason: format!("{net:?} is not a CIDR network: {e}"),
            })?;
        }
        self.metrics_addr()?;
        self.retry_schedule_secs()?;
        self.validate_webhooks()?;
        self.validate_mail()?;
        if !(1..=24 * 60).contains(&self.session_idle_minutes) {
            return Err(ConfigError::Invalid {
                setting: "SRDI_SESSION_IDLE_MINUTES",
                reason: "must be between 1 and 1440".into(),
            });
        }
        if !(1..=24 * 30).contains(&self.session_max_hours)
            || u64::from(self.session_max_hours) * 60 < u64::from(self.session_idle_minutes)
        {
            return Err(ConfigError::Invalid {
                setting: "SRDI_SESSION_MAX_HOURS",
                reason: "must be between 1 and 720, and not shorter than the idle timeout".into(),
            });
        }
        if let Some(base) = &self.public_base_url
            && !(base.starts_with("http://") || base.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                setting: "SRDI_PUBLIC_BASE_URL",
                reason: "must be an http(s) URL".into(),
            });
        }
        Ok(())
    }

    /// The metrics listener's address; `None` when switched off.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        match self.metrics_listen.trim() {
            "" | "off" => Ok(None),
            addr => addr.parse().map(Some).map_err(|_| ConfigError::Invalid {
                setting: "SRDI_METRICS_LISTEN",
                reason: "must be an address with a port, such as 127.0.0.1:9464, or `off`".into(),
            }),
        }
    }

    pub fn retry_schedule_secs(&self) -> Result<Vec<u64>, ConfigError> {
        let parsed: Result<Vec<u64>, _> =
            self.webhooks_retry_schedule.iter().map(|s| s.trim().parse::<u64>()).collect();
        match parsed {
            Ok(v) if !v.is_empty() => Ok(v),
            _ => Err(ConfigError::Invalid {
                setting: "SRDI_WEBHOOKS_RETRY_SCHEDULE",
                reason: "must be a non-empty comma-separated list of whole seconds".into(),
            }),
        }
    }

    fn validate_webhooks(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &'static str, reason: String| Err(ConfigError::Invalid { setting, reason });
        if !self.webhooks_secret_key.is_empty()
            && let Err(e) = webhooks::decode_secret_key(self.webhooks_secret_key.expose())
        {
            return invalid("SRDI_WEBHOOKS_SECRET_KEY", format!("{e}; generate one with `openssl rand -base64 32`"));
        }
        if let Err(e) = webhooks::RetrySchedule::parse(&self.webhooks_retry_schedule.join(",")) {
            return invalid("SRDI_WEBHOOKS_RETRY_SCHEDULE", e.to_string());
        }
        if !(100..=30_000).contains(&self.webhooks_request_timeout_ms) {
            return invalid("SRDI_WEBHOOKS_REQUEST_TIMEOUT_MS", "must be between 100 and 30000".into());
        }
        if !(5..=60_000).contains(&self.webhooks_poll_interval_ms) {
            return invalid("SRDI_WEBHOOKS_POLL_INTERVAL_MS", "must be between 5 and 60000".into());
        }
        if !(1..=1000).contains(&self.webhooks_batch_size) {
            return invalid("SRDI_WEBHOOKS_BATCH_SIZE", "must be between 1 and 1000".into());
        }
        if !(1..=10_000).contains(&self.webhooks_max_in_flight) {
            return invalid("SRDI_WEBHOOKS_MAX_IN_FLIGHT", "must be between 1 and 10000".into());
        }
        if !(30..=3650).contains(&self.webhooks_retention_days) {
            return invalid("SRDI_WEBHOOKS_RETENTION_DAYS", "must be between 30 and 3650 days".into());
        }
        if self.webhooks_rotation_overlap_hours > 24 * 30 {
            return invalid("SRDI_WEBHOOKS_ROTATION_OVERLAP_HOURS", "must be at most 720 (30 days)".into());
        }
        Ok(())
    }

    fn validate_mail(&self) -> Result<(), ConfigError> {
        if let Some(url) = self.smtp_url.as_ref().filter(|u| !u.is_empty()) {
            smtp::parse_smtp_url(url.expose())
                .map_err(|reason| ConfigError::Invalid { setting: "SRDI_SMTP_URL", reason })?;
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::Invalid {
                setting: "SRDI_MAIL_FROM",
                reason: "must be an address, optionally with a name: `Name <noreply@example.cn>`".into(),
            });
        }
        self.mail_retry_secs()?;
        if self.smtp_timeout_secs == 0 || self.mail_lease_secs <= self.smtp_timeout_secs.saturating_mul(4) {
            return Err(ConfigError::Invalid {
                setting: "SRDI_MAIL_LEASE_SECS",
                reason: "must be more than four times SRDI_SMTP_TIMEOUT_SECS (which must be at least 1), so a \
                    mail being sent is never claimed a second time"
                    .into(),
            });
        }
        Ok(())
    }

    /// The mail retry delays; an empty list means a single attempt.
    pub fn mail_retry_secs(&self) -> Result<Vec<u64>, ConfigError> {
        self.mail_retry_schedule.iter().map(|s| s.trim().parse::<u64>()).collect::<Result<Vec<_>, _>>().map_err(|_| {
            ConfigError::Invalid {
                setting: "SRDI_MAIL_RETRY_SCHEDULE",
                reason: "must be a comma-separated list of whole seconds".into(),
            }
        })
    }

    pub fn base_url(&self) -> String {
        self.public_base_url.clone().unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// Whether people reach the service over HTTPS (session cookies are then `Secure`).
    pub fn served_over_https(&self) -> bool {
        self.public_base_url.as_deref().is_some_and(|b| b.starts_with("https://"))
    }

    /// Requests served at once (see `admission_in_flight`).
    pub fn admission_slots(&self) -> usize {
        let n = if self.admission_in_flight == 0 { self.database_max_connections } else { self.admission_in_flight };
        n as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = Config {
            database_url: Secret::new("postgres://u:hunter2@db/x"),
            webhooks_secret_key: Secret::new("c2VjcmV0"),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("c2VjcmV0"));
    }

    #[test]
    fn metrics_listener_is_on_loopback_unless_moved_or_switched_off() {
        assert_eq!(Config::default().metrics_addr().expect("default"), Some(SocketAddr::from(([127, 0, 0, 1], 9464))));
        for off in ["", "off", " off "] {
            let c = Config { metrics_listen: off.into(), ..Config::default() };
            assert_eq!(c.metrics_addr().expect("off"), None, "{off:?}");
        }
        let c = Config { metrics_listen: "0.0.0.0:9100".into(), ..Config::default() };
        assert_eq!(c.metrics_addr().expect("moved"), Some(SocketAddr::from(([0, 0, 0, 0], 9100))));
        let c = Config { metrics_listen: "localhost".into(), ..Config::default() };
        assert!(c.validate().expect_err("no port").to_string().contains("SRDI_METRICS_LISTEN"));
    }

    #[test]
    fn validation_names_the_setting() {
        let c = Config { database_url: Secret::new("mysql://x"), ..Config::default() };
        let err = c.validate().expect_err("mysql is not supported").to_string();
        assert!(err.contains("SRDI_DATABASE_URL"), "{err}");
        let c = Config { webhooks_allow_networks: vec!["nonsense".into()], ..Config::default() };
        assert!(c.validate().expect_err("bad cidr").to_string().contains("ALLOW_NETWORKS"));
        let c = Config { webhooks_retry_schedule: vec!["5".into(), "x".into()], ..Config::default() };
        assert!(c.validate().is_err());
        let c = Config { webhooks_secret_key: Secret::new("c2hvcnQ="), ..Config::default() };
        assert!(c.validate().expect_err("short key").to_string().contains("SRDI_WEBHOOKS_SECRET_KEY"));
        let c = Config { webhooks_retention_days: 7, ..Config::default() };
        assert!(c.validate().expect_err("short retention").to_string().contains("RETENTION_DAYS"));
        let c = Config { webhooks_request_timeout_ms: 60_000, ..Config::default() };
        assert!(c.validate().expect_err("long timeout").to_string().contains("REQUEST_TIMEOUT_MS"));
        let c = Config { smtp_url: Some(Secret::new("smtp://u:hunter2@mail?tls=maybe")), ..Config::default() };
        let err = c.validate().expect_err("bad tls mode").to_string();
        assert!(err.contains("SRDI_SMTP_URL") && !err.contains("hunter2"), "{err}");
        let c = Config { smtp_url: Some(Secret::new("smtp://u:hunter2@mail.example.cn")), ..Config::default() };
        let err = c.validate().expect_err("password in clear").to_string();
        assert!(err.contains("SRDI_SMTP_URL") && err.contains("in clear") && !err.contains("hunter2"), "{err}");
        let c = Config { mail_retry_schedule: vec!["soon".into()], ..Config::default() };
        assert!(c.validate().expect_err("bad schedule").to_string().contains("SRDI_MAIL_RETRY_SCHEDULE"));
        let c = Config { mail_lease_secs: 60, ..Config::default() };
        assert!(c.validate().expect_err("lease too short").to_string().contains("SRDI_MAIL_LEASE_SECS"));
        let c = Config { mail_from: "not an address".into(), ..Config::default() };
        assert!(c.validate().expect_err("bad from").to_string().contains("SRDI_MAIL_FROM"));
        let c = Config { session_idle_minutes: 0, ..Config::default() };
        assert!(c.validate().expect_err("no idle time").to_string().contains("SRDI_SESSION_IDLE_MINUTES"));
        let c = Config { session_idle_minutes: 600, session_max_hours: 2, ..Config::default() };
        assert!(c.validate().expect_err("max below idle").to_string().contains("SRDI_SESSION_MAX_HOURS"));
    }
}
