//! Configuration: built-in defaults → optional TOML file → `SRDI_*` environment variables.
//! Validated once at start; a bad value stops the process with a message naming the setting.

pub mod smtp;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use ipnet::IpNet;
use lettre::message::Mailbox;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use self::smtp::SmtpSettings;
use self::webhooks::{RetrySchedule, SecretBoxKey};

/// A value that must never reach logs or `Debug` output.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// The settings the service runs with. Every value is parsed into its type once, when the
/// configuration is read (a value that does not parse stops the process naming its variable);
/// `validate` then checks the ranges and the rules between settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
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
    #[serde(deserialize_with = "metrics_listener")]
    pub metrics_listen: Option<SocketAddr>,
    /// Base URL printed by `demo` and used in links; defaults to `http://{listen}`.
    pub public_base_url: Option<String>,
    pub log_format: LogFormat,
    /// Largest request body accepted (bulk imports are the big ones).
    pub max_body_bytes: usize,
    /// Run background workers (webhook dispatcher, mail sender, matching queue) in this instance.
    pub workers_enabled: bool,
    /// CIDRs exempt from the webhook SSRF guard (e.g. `127.0.0.1/32` for local receivers).
    #[serde(deserialize_with = "networks")]
    pub webhooks_allow_networks: Vec<IpNet>,
    pub webhooks_allow_http: bool,
    /// Seconds between delivery attempts, comma-separated.
    #[serde(deserialize_with = "retry_schedule")]
    pub webhooks_retry_schedule: RetrySchedule,
    /// 32 bytes, base64: encrypts webhook signing secrets at rest. Empty: the service refuses to
    /// create endpoints or rotate secrets (503 naming this setting); `demo` generates one and keeps
    /// it in `./data/webhooks-secret.key`.
    #[serde(deserialize_with = "sealing_key")]
    pub webhooks_secret_key: Option<SecretBoxKey>,
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
    /// refused (see `mail::transport`); unset or empty: mails are written under `mail_dir`.
    #[serde(deserialize_with = "smtp_url")]
    pub smtp_url: Option<SmtpSettings>,
    pub mail_dir: PathBuf,
    /// The office as sender: `Name <address>`.
    #[serde(deserialize_with = "mailbox")]
    pub mail_from: Mailbox,
    /// Seconds each SMTP command may take before the attempt counts as failed (and is retried).
    pub smtp_timeout_secs: u64,
    /// Seconds between mail delivery attempts, comma-separated; when used up the mail is `failed`.
    /// Empty: a single attempt.
    #[serde(deserialize_with = "seconds_list")]
    pub mail_retry_schedule: Vec<u64>,
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

/// A list setting arrives as comma-separated text (environment), as a TOML array, or as a lone
/// number; every form becomes the list of its entries as text.
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
                serde_json::Value::String(s) => s.trim().to_owned(),
                other => other.to_string(),
            })
            .collect(),
        Form::Text(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
        Form::Number(n) => vec![n.to_string()],
    })
}

/// A text setting where empty means "not set".
fn optional_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    comma_separated(d)?
        .iter()
        .map(|net| {
            net.parse::<IpNet>().map_err(|e| {
                D::Error::custom(format!("SRDI_WEBHOOKS_ALLOW_NETWORKS: {net:?} is not a CIDR network: {e}"))
            })
        })
        .collect()
}

fn retry_schedule<'de, D: Deserializer<'de>>(d: D) -> Result<RetrySchedule, D::Error> {
    RetrySchedule::parse(&comma_separated(d)?.join(","))
        .map_err(|e| D::Error::custom(format!("SRDI_WEBHOOKS_RETRY_SCHEDULE: {e}")))
}

fn seconds_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    comma_separated(d)?
        .iter()
        .map(|s| s.parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| D::Error::custom("SRDI_MAIL_RETRY_SCHEDULE: must be a comma-separated list of whole seconds"))
}

fn sealing_key<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretBoxKey>, D::Error> {
    // The key itself is never part of an error message.
    optional_text(d)?
        .map(|text| {
            SecretBoxKey::from_base64(&text).map_err(|e| {
                D::Error::custom(format!("SRDI_WEBHOOKS_SECRET_KEY: {e}; generate one with `openssl rand -base64 32`"))
            })
        })
        .transpose()
}

fn smtp_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SmtpSettings>, D::Error> {
    // The URL may carry a password: the error names the problem, never the URL.
    optional_text(d)?
        .map(|url| smtp::parse_smtp_url(&url).map_err(|reason| D::Error::custom(format!("SRDI_SMTP_URL: {reason}"))))
        .transpose()
}

fn mailbox<'de, D: Deserializer<'de>>(d: D) -> Result<Mailbox, D::Error> {
    String::deserialize(d)?.trim().parse::<Mailbox>().map_err(|_| {
        D::Error::custom("SRDI_MAIL_FROM: must be an address, optionally with a name: `Name <noreply@example.cn>`")
    })
}

fn metrics_listener<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    match optional_text(d)?.as_deref() {
        None | Some("off") => Ok(None),
        Some(addr) => addr.parse().map(Some).map_err(|_| {
            D::Error::custom("SRDI_METRICS_LISTEN: must be an address with a port, such as 127.0.0.1:9464, or `off`")
        }),
    }
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
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            public_base_url: None,
            log_format: LogFormat::Text,
            max_body_bytes: 32 * 1024 * 1024,
            workers_enabled: true,
            webhooks_allow_networks: Vec::new(),
            webhooks_allow_http: false,
            webhooks_retry_schedule: RetrySchedule::default(),
            webhooks_secret_key: None,
            webhooks_rotation_overlap_hours: 24,
            webhooks_request_timeout_ms: 15_000,
            webhooks_poll_interval_ms: 100,
            webhooks_batch_size: 100,
            webhooks_max_in_flight: 256,
            webhooks_retention_days: 30,
            smtp_url: None,
            mail_dir: PathBuf::from("./data/mail"),
            mail_from: "srdi-capital <noreply@srdi-capital.local>".parse().expect("the default sender is an address"),
            smtp_timeout_secs: 30,
            mail_retry_schedule: vec![60, 300, 900, 1800, 3600, 7200, 14400, 28800],
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
        let mut figment = Figment::new();
        let file = file.map(PathBuf::from).or_else(|| std::env::var_os("SRDI_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("SRDI_").ignore(&["CONFIG"]));
        Self::from_figment(figment)
    }

    /// Reads and checks the settings from `figment`; what it does not name keeps its default.
    pub fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
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

    fn validate_webhooks(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &'static str, reason: String| Err(ConfigError::Invalid { setting, reason });
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

    /// The settings read from a TOML text over the defaults, as `load` reads a file.
    fn read(toml: &str) -> Result<Config, String> {
        Config::from_figment(Figment::new().merge(Toml::string(toml))).map_err(|e| e.to_string())
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let key = SecretBoxKey::generate();
        let c = Config {
            database_url: Secret::new("postgres://u:hunter2@db/x"),
            webhooks_secret_key: Some(key.clone()),
            smtp_url: Some(smtp::parse_smtp_url("smtps://u:hunter2@mail.example.cn").expect("url")),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains(&key.to_base64()), "{shown}");
    }

    #[test]
    fn values_are_parsed_once_into_their_types() {
        let c = read(
            r#"
            webhooks_allow_networks = "127.0.0.1/32, 10.0.0.0/8"
            webhooks_retry_schedule = "0,1,5"
            mail_retry_schedule = [1, 2]
            mail_from = "Office <office@srdi.example>"
            smtp_url = "smtp://127.0.0.1:2525"
            webhooks_secret_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
            "#,
        )
        .expect("valid");
        assert_eq!(c.webhooks_allow_networks.len(), 2);
        assert_eq!(c.webhooks_retry_schedule.attempts(), 3);
        assert_eq!(c.mail_retry_schedule, vec![1, 2]);
        assert_eq!(c.mail_from.email.to_string(), "office@srdi.example");
        assert_eq!(c.smtp_url.as_ref().map(|s| s.host.as_str()), Some("127.0.0.1"));
        assert!(c.webhooks_secret_key.is_some());
        let unset = read("smtp_url = \"\"\nwebhooks_secret_key = \"\"").expect("empty means unset");
        assert!(unset.smtp_url.is_none() && unset.webhooks_secret_key.is_none());
    }

    #[test]
    fn metrics_listener_is_on_loopback_unless_moved_or_switched_off() {
        assert_eq!(Config::default().metrics_listen, Some(SocketAddr::from(([127, 0, 0, 1], 9464))));
        for off in ["", "off", " off "] {
            let c = read(&format!("metrics_listen = {off:?}")).expect("off");
            assert_eq!(c.metrics_listen, None, "{off:?}");
        }
        let c = read("metrics_listen = \"0.0.0.0:9100\"").expect("moved");
        assert_eq!(c.metrics_listen, Some(SocketAddr::from(([0, 0, 0, 0], 9100))));
        assert!(read("metrics_listen = \"localhost\"").expect_err("no port").contains("SRDI_METRICS_LISTEN"));
    }

    #[test]
    fn a_value_that_does_not_parse_names_its_setting_and_never_shows_a_secret() {
        for (toml, setting) in [
            (r#"webhooks_allow_networks = "nonsense""#, "SRDI_WEBHOOKS_ALLOW_NETWORKS"),
            (r#"webhooks_retry_schedule = "5,x""#, "SRDI_WEBHOOKS_RETRY_SCHEDULE"),
            (r#"webhooks_retry_schedule = """#, "SRDI_WEBHOOKS_RETRY_SCHEDULE"),
            (r#"webhooks_secret_key = "c2hvcnQ=""#, "SRDI_WEBHOOKS_SECRET_KEY"),
            (r#"mail_retry_schedule = "soon""#, "SRDI_MAIL_RETRY_SCHEDULE"),
            (r#"mail_from = "not an address""#, "SRDI_MAIL_FROM"),
            (r#"smtp_url = "smtp://u:hunter2@mail?tls=maybe""#, "SRDI_SMTP_URL"),
        ] {
            let err = read(toml).expect_err(toml);
            assert!(err.contains(setting), "{toml}: {err}");
            assert!(!err.contains("hunter2") && !err.contains("c2hvcnQ"), "{toml}: {err}");
        }
        let err = read(r#"smtp_url = "smtp://u:hunter2@mail.example.cn""#).expect_err("password in clear");
        assert!(err.contains("SRDI_SMTP_URL") && err.contains("in clear") && !err.contains("hunter2"), "{err}");
    }

    #[test]
    fn validation_names_the_setting() {
        let c = Config { database_url: Secret::new("mysql://x"), ..Config::default() };
        let err = c.validate().expect_err("mysql is not supported").to_string();
        assert!(err.contains("SRDI_DATABASE_URL"), "{err}");
        let c = Config { webhooks_retention_days: 7, ..Config::default() };
        assert!(c.validate().expect_err("short retention").to_string().contains("RETENTION_DAYS"));
        let c = Config { webhooks_request_timeout_ms: 60_000, ..Config::default() };
        assert!(c.validate().expect_err("long timeout").to_string().contains("REQUEST_TIMEOUT_MS"));
        let c = Config { mail_lease_secs: 60, ..Config::default() };
        assert!(c.validate().expect_err("lease too short").to_string().contains("SRDI_MAIL_LEASE_SECS"));
        let c = Config { session_idle_minutes: 0, ..Config::default() };
        assert!(c.validate().expect_err("no idle time").to_string().contains("SRDI_SESSION_IDLE_MINUTES"));
        let c = Config { session_idle_minutes: 600, session_max_hours: 2, ..Config::default() };
        assert!(c.validate().expect_err("max below idle").to_string().contains("SRDI_SESSION_MAX_HOURS"));
        assert!(read("").is_ok(), "the defaults are valid");
    }
}
