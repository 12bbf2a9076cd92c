//! A real browser against the real service: each test starts the application on 127.0.0.1:0 over
//! a fresh database (SQLite, or PostgreSQL with `SRDI_TEST_DATABASE=postgres`), a `chromedriver`
//! on a free loopback port, and drives Debian's Chromium through WebDriver (fantoccini).
//!
//! A missing browser fails the test with instructions; it never skips.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use srdi_capital::clock::SystemClock;
use srdi_capital::pages::i18n::{self, Lang};

use crate::helpers::{TestApp, fresh_database, start_on, test_config};
use crate::smtp_sink::SmtpSink;

pub const WAIT: Duration = Duration::from_secs(20);

/// The message of `key` in the language the browser asks for (Chinese).
pub fn zh(key: &str) -> &'static str {
    i18n::t(Lang::Zh, key)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

fn find_program(env: &str, names: &[&str]) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return PathBuf::from(p);
    }
    for name in names {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = PathBuf::from(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "{} not found: the browser tests need Debian's `chromium` and `chromium-driver` \
         (apt-get install -y chromium chromium-driver), or {env} set to the program",
        names.join(" / ")
    );
}

/// A chromedriver process on a free loopback port, stopped when dropped.
pub struct Driver {
    child: Child,
    pub port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Driver {
    let program = find_program("SRDI_CHROMEDRIVER", &["chromedriver"]);
    let port = free_port();
    let child = Command::new(&program)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver { child, port, _profile: profile };
    let started = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return driver;
        }
        assert!(started.elapsed() < WAIT, "chromedriver did not listen on port {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The application, the browser, and the mail sink of one test.
pub struct Browser {
    pub app: TestApp,
    pub client: Client,
    pub sink: SmtpSink,
    _driver: Driver,
    axe: Arc<String>,
}

pub async fn start() -> Browser {
    let sink = SmtpSink::start();
    let (url, guard) = fresh_database().await;
    let mut config = test_config(&url);
    config.smtp_url = Some(srdi_capital::config::smtp::parse_smtp_url(&sink.url()).expect("sink url"));
    config.mail_poll_interval_ms = 50;
    config.mail_retry_schedule = vec![1; 30];
    config.smtp_timeout_secs = 5;
    config.webhooks_secret_key = Some(srdi_capital::webhooks::signing::SecretBoxKey::generate());
    let app = start_on(config, Arc::new(SystemClock), Arc::new(guard)).await;
    let driver = start_driver().await;
    let chromium = find_program("SRDI_CHROMIUM", &["chromium", "chromium-browser"]);
    let args = vec![
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--lang=zh-CN".to_owned(),
        "--window-size=1280,900".to_owned(),
        format!("--user-data-dir={}", driver._profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": chromium, "args": args, "prefs": { "intl.accept_languages": "zh-CN,zh" } }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with Chromium");
    let axe = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/static/vendor/axe.min.js"))
        .expect("static/vendor/axe.min.js (run scripts/vendor-assets.sh)");
    Browser { app, client, sink, _driver: driver, axe: Arc::new(axe) }
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.app.base, path)
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&self.url(path)).await.unwrap_or_else(|e| panic!("goto {path}: {e}"));
    }

    pub async fn path(&self) -> String {
        let u = self.client.current_url().await.expect("current url");
        let mut p = u.path().to_owned();
        if let Some(q) = u.query() {
            p.push('?');
            p.push_str(q);
        }
        p
    }

    pub async fn text(&self, css: &str) -> String {
        self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        self.client.find(Locator::Css(css)).await.expect(css).text().await.expect("text")
    }

    pub async fn body(&self) -> String {
        self.text("body").await
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        e.clear().await.expect("clear");
        e.send_keys(value).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn select(&self, css: &str, value: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        e.select_by_value(value).await.unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        let e = self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        e.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks and waits for the next page to load (its URL differs, or the page was replaced).
    pub async fn click_and_wait(&self, css: &str) {
        let marker = self.mark_page().await;
        self.click(css).await;
        self.wait_for_new_page(marker).await;
    }

    async fn mark_page(&self) -> String {
        let m = format!("m{}", uuid::Uuid::new_v4().simple());
        self.client.execute(&format!("window.{m} = true;"), vec![]).await.expect("mark page");
        m
    }

    async fn wait_for_new_page(&self, marker: String) {
        let started = Instant::now();
        loop {
            let gone = self
                .client
                .execute(&format!("return document.readyState === 'complete' && !window.{marker};"), vec![])
                .await
                .map(|v| v == Value::Bool(true))
                .unwrap_or(false);
            if gone {
                return;
            }
            assert!(started.elapsed() < WAIT, "no new page after the click");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The status code of the page now shown, by the Navigation Timing API.
    pub async fn status(&self) -> u64 {
        self.client
            .execute(
                "const e = performance.getEntriesByType('navigation')[0]; return e ? e.responseStatus : 0;",
                vec![],
            )
            .await
            .expect("navigation timing")
            .as_u64()
            .unwrap_or(0)
    }

    /// Runs axe-core (injected from the vendored file) and fails on any serious or critical violation.
    pub async fn assert_accessible(&self, page: &str) {
        self.client.execute(&format!("{}\nreturn true;", self.axe), vec![]).await.expect("inject axe-core");
        let script = "const done = arguments[arguments.length - 1];\
            axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations\
              .filter(v => v.impact === 'serious' || v.impact === 'critical')\
              .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }))))\
              .catch(e => done([{ id: 'axe-error', help: String(e) }]));";
        let result = self.client.execute_async(script, vec![]).await.expect("axe.run");
        let clean = result.as_array().is_some_and(Vec::is_empty);
        assert!(clean, "{page}: serious/critical accessibility violations: {result:#}");
    }

    /// Saves a screenshot of the current page when `SRDI_SCREENSHOT_DIR` is set.
    pub async fn screenshot(&self, name: &str) {
        let Ok(dir) = std::env::var("SRDI_SCREENSHOT_DIR") else { return };
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Checks the page, runs axe on it and saves its screenshot under `name`.
    pub async fn check_page(&self, name: &str) {
        self.assert_accessible(name).await;
        self.screenshot(name).await;
    }

    pub async fn sign_in_with_key(&self, key: &str) {
        self.goto("/signin").await;
        self.fill("#key", key).await;
        self.click_and_wait("form[action='/signin/key'] button").await;
    }

    /// Asks for a sign-in link for `address`, reads it from the mail the SMTP sink received,
    /// opens it and confirms. `mails_before` is how many mails the sink held before.
    pub async fn sign_in_by_mail(&self, address: &str, mails_before: usize) -> String {
        self.goto("/signin").await;
        self.fill("#email", address).await;
        self.click_and_wait("form[action='/signin/email'] button").await;
        assert!(self.body().await.contains(zh("signin.link_sent")), "the sign-in page confirms the request");
        let mails = self.sink.wait_for(mails_before + 1, WAIT).await;
        let mail = mails.last().expect("a sign-in mail").parsed();
        assert_eq!(mail.to, vec![address.to_owned()]);
        let body = mail.text_body.expect("text body");
        let link = body
            .split_whitespace()
            .find(|w| w.contains("/signin/link?token="))
            .expect("a sign-in link in the mail")
            .to_owned();
        assert!(link.starts_with(&self.app.base), "the link points at this service: {link}");
        self.client.goto(&link).await.expect("open the link");
        self.click_and_wait("form[action='/signin/link'] button").await;
        link
    }

    /// The value of the session cookie, to replay it elsewhere.
    pub async fn session_cookie(&self) -> String {
        self.client.get_named_cookie("srdi_session").await.expect("a session cookie").value().to_owned()
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Plain HTTP against the same service with a given session cookie (for requests a browser
/// would not make by itself, e.g. a form post without its token).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}
