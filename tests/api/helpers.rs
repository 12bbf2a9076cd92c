//! Test support: a real server on 127.0.0.1:0 over a fresh database per test. The backend comes
//! from `SRDI_TEST_DATABASE`: unset or `sqlite` for a temporary SQLite file, `postgres` for a fresh
//! database on the PostgreSQL at `SRDI_TEST_POSTGRES_URL` (default postgres://postgres@127.0.0.1:5432).

use std::net::TcpListener;
use std::sync::Arc;

use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use srdi_capital::clock::{ManualClock, SharedClock, SystemClock};
use srdi_capital::config::{Config, Secret};
use srdi_capital::db::Db;
use srdi_capital::domain::access::Role;
use srdi_capital::startup::Application;
use srdi_capital::store::keys;
use uuid::Uuid;

pub enum DbGuard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let DbGuard::Postgres { admin_url, name } = self {
            let admin_url = admin_url.clone();
            let name = name.clone();
            // Drop runs outside any runtime guarantee: use a short-lived one on its own thread.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(async {
                        sqlx::any::install_default_drivers();
                        if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await {
                            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

pub fn backend() -> &'static str {
    match std::env::var("SRDI_TEST_DATABASE").as_deref() {
        Ok("postgres") => "postgres",
        _ => "sqlite",
    }
}

/// A fresh, empty database URL and the guard that removes it.
pub async fn fresh_database() -> (String, DbGuard) {
    if backend() == "postgres" {
        let base =
            std::env::var("SRDI_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let admin_url = format!("{base}/postgres");
        let name = format!("srdi_test_{}", Uuid::new_v4().simple());
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect("PostgreSQL reachable for tests");
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.expect("create test database");
        (format!("{base}/{name}"), DbGuard::Postgres { admin_url, name })
    } else {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/test.db", dir.path().display());
        (url, DbGuard::Sqlite(dir))
    }
}

#[allow(dead_code)]
pub struct TestApp {
    pub base: String,
    /// `http://127.0.0.1:{port}` of the metrics listener (its own port, as in production).
    pub metrics_base: Option<String>,
    pub admin_key: String,
    pub client: Client,
    pub db: Db,
    pub config: Config,
    pub clock: SharedClock,
    pub database_url: String,
    _guard: Arc<DbGuard>,
}

pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: Secret::new(database_url),
        listen: "127.0.0.1:0".parse().expect("addr"),
        // Many apps run at once: each scrape listener takes a free port.
        metrics_listen: Some("127.0.0.1:0".parse().expect("addr")),
        database_max_connections: 5,
        // Without an SMTP URL mails become .eml files: keep them out of the working tree.
        mail_dir: std::env::temp_dir().join("srdi-capital-test-mail"),
        ..Config::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}, Arc::new(SystemClock)).await
}

#[allow(dead_code)]
pub async fn spawn_app_with_clock(clock: ManualClock) -> TestApp {
    spawn_app_with(|_| {}, Arc::new(clock)).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config), clock: SharedClock) -> TestApp {
    let (url, guard) = fresh_database().await;
    let mut config = test_config(&url);
    adjust(&mut config);
    start_on(config, clock, Arc::new(guard)).await
}

/// Starts an application on an existing database (e.g. a second instance, or after a restart).
pub async fn start_on(config: Config, clock: SharedClock, guard: Arc<DbGuard>) -> TestApp {
    // `SRDI_TEST_LOG=debug` (any filter) prints the service's log beside a test's output.
    if let Ok(filter) = std::env::var("SRDI_TEST_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
    let db = Db::connect(config.database_url.expose(), config.database_max_connections).await.expect("connect");
    db.migrate().await.expect("migrate");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = Application::with_listener(config.clone(), clock.clone(), db.clone(), listener).await.expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics_base = app.metrics_port().map(|port| format!("http://127.0.0.1:{port}"));
    tokio::spawn(app.run_until_stopped());
    let mut conn = db.pool().acquire().await.expect("conn");
    let (_, admin_key) =
        keys::create(&mut conn, Role::Admin, None, "test admin", clock.now()).await.expect("admin key");
    drop(conn);
    TestApp {
        base,
        metrics_base,
        admin_key,
        client: Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
        database_url: config.database_url.expose().to_owned(),
        db,
        config,
        clock,
        _guard: guard,
    }
}

impl TestApp {
    /// What Prometheus reads from the metrics listener.
    #[allow(dead_code)]
    pub async fn scrape_metrics(&self) -> String {
        let base = self.metrics_base.as_deref().expect("the metrics listener is on");
        let resp = self.client.get(format!("{base}/metrics")).send().await.expect("scrape");
        assert_eq!(resp.status(), reqwest::StatusCode::OK);
        resp.text().await.expect("metrics text")
    }

    #[allow(dead_code)]
    pub fn guard(&self) -> Arc<DbGuard> {
        self._guard.clone()
    }

    pub fn req(&self, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
        let b = self.client.request(method, format!("{}{}", self.base, path));
        match key {
            Some(k) => b.bearer_auth(k),
            None => b,
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> Response {
        self.req(Method::GET, path, Some(key)).send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, key: &str, body: &Value) -> Response {
        self.req(Method::POST, path, Some(key)).json(body).send().await.expect("request")
    }

    pub async fn patch_json(&self, path: &str, key: &str, body: &Value) -> Response {
        self.req(Method::PATCH, path, Some(key)).json(body).send().await.expect("request")
    }

    pub async fn put_json(&self, path: &str, key: &str, body: &Value) -> Response {
        self.req(Method::PUT, path, Some(key)).json(body).send().await.expect("request")
    }

    pub async fn key_for(&self, role: Role, subject: Option<Uuid>) -> String {
        let mut conn = self.db.pool().acquire().await.expect("conn");
        keys::create(&mut conn, role, subject, "test", self.clock.now()).await.expect("key").1
    }

    /// Registers a firm and returns its JSON.
    pub async fn create_firm(&self, body: Value) -> Value {
        let resp = self.post_json("/v1/firms", &self.admin_key, &body).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "create firm");
        resp.json().await.expect("json")
    }

    /// Inserts a bank row directly (bank onboarding has its own API in a later capability).
    pub async fn insert_bank(&self, code: &str) -> Uuid {
        let id = Uuid::now_v7();
        sqlx::query("INSERT INTO banks (id, code, name, contact_email, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.to_string())
            .bind(code)
            .bind(format!("Bank {code}"))
            .bind("bank@example.cn")
            .bind(srdi_capital::db::types::ts(self.clock.now()))
            .execute(self.db.pool())
            .await
            .expect("insert bank");
        id
    }
}

/// A valid credit code for test firm number `n` in Jinan.
pub fn code(n: usize) -> String {
    srdi_capital::seed::synthetic_credit_code(srdi_capital::domain::firm::City::Jinan, n, 7)
}

pub fn firm_body(n: usize) -> Value {
    serde_json::json!({
        "credit_code": code(n),
        "name": format!("测试企业{n}有限公司"),
        "city": "jinan",
        "industry_code": "C3562",
        "tier": "provincial_srdi",
        "founded_on": "2012-05-18",
        "contact_email": format!("cfo{n}@firm.example.cn"),
    })
}

pub async fn problem(resp: Response) -> Value {
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(ct.starts_with("application/problem+json"), "content type {ct}");
    resp.json().await.expect("problem json")
}

/// A webhook retry schedule of these delays, in seconds.
#[allow(dead_code)]
pub fn retry_schedule(secs: &[u64]) -> srdi_capital::webhooks::retry::RetrySchedule {
    srdi_capital::webhooks::retry::RetrySchedule::from_secs(secs).expect("a valid schedule")
}

/// Webhook settings for tests: a sealing key, loopback 127.0.0.1 only, plain HTTP, a short
/// retry schedule, a 1 s request timeout and a fast poll.
#[allow(dead_code)]
pub fn loopback_webhooks(c: &mut Config) {
    c.webhooks_secret_key = Some(srdi_capital::webhooks::signing::SecretBoxKey::generate());
    c.webhooks_allow_networks = vec!["127.0.0.1/32".parse().expect("network")];
    c.webhooks_allow_http = true;
    c.webhooks_retry_schedule = retry_schedule(&[0, 1, 1, 1]);
    c.webhooks_request_timeout_ms = 1000;
    c.webhooks_poll_interval_ms = 20;
}

/// Percent-encodes a query value (sync tokens are base64).
#[allow(dead_code)]
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[allow(dead_code)]
pub fn manual_clock() -> ManualClock {
    ManualClock::new(chrono::Utc::now())
}
