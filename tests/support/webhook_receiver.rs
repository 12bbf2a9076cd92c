//! A real HTTP receiver for webhook tests and benchmarks, on 127.0.0.1 only. It records every
//! request (path, headers, exact body bytes, arrival time) and answers as told per path: a
//! script of replies consumed in order, then a default (204).
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    /// Status with one extra header (e.g. `Retry-After`).
    WithHeader(u16, &'static str, String),
    /// Waits, then answers with the status (a receiver slower than the dispatcher's timeout).
    Slow(Duration, u16),
    /// 30x with `Location` pointing at another path of this same receiver.
    Redirect(u16, String),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }

    /// Verifies the delivery with the independent Standard Webhooks reference library (Python
    /// `standardwebhooks`; `SRDI_TEST_PYTHON` names the interpreter), over the exact body bytes.
    pub fn verified_by_reference_library(&self, secret: &str) -> bool {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let python = std::env::var("SRDI_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/verify_standard_webhook.py");
        let mut child = Command::new(&python)
            .arg(script)
            .args([
                secret,
                self.header("webhook-id"),
                self.header("webhook-timestamp"),
                self.header("webhook-signature"),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {python} ({e}); `pip install standardwebhooks` or set SRDI_TEST_PYTHON")
            });
        child.stdin.take().expect("stdin").write_all(&self.body).expect("write body");
        let out = child.wait_with_output().expect("verifier ran");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.code() != Some(3), "standardwebhooks missing for {python}: {stderr}");
        out.status.success()
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    scripts: Mutex<HashMap<String, VecDeque<Reply>>>,
    defaults: Mutex<HashMap<String, Reply>>,
    /// Per path: requests being answered now, and the most at once so far.
    concurrency: Mutex<HashMap<String, (usize, usize)>>,
    /// Benchmarks: keep only `(path, webhook-id, arrival)`.
    lean: bool,
    arrivals: Mutex<Vec<(String, String, Instant)>>,
}

pub struct Receiver {
    pub base: String,
    inner: Arc<Inner>,
    handle: actix_web::dev::ServerHandle,
}

async fn handle(req: HttpRequest, body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let at = Instant::now();
    let path = req.path().to_owned();
    if inner.lean {
        let id = req.headers().get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        inner.arrivals.lock().unwrap_or_else(PoisonError::into_inner).push((path, id, at));
        return HttpResponse::NoContent().finish();
    }
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    inner.received.lock().unwrap_or_else(PoisonError::into_inner).push(Received {
        path: path.clone(),
        headers,
        body: body.to_vec(),
        at,
    });
    {
        let mut c = inner.concurrency.lock().unwrap_or_else(PoisonError::into_inner);
        let e = c.entry(path.clone()).or_default();
        e.0 += 1;
        e.1 = e.1.max(e.0);
    }
    let reply = answer(&req, &path, &inner).await;
    if let Some(e) = inner.concurrency.lock().unwrap_or_else(PoisonError::into_inner).get_mut(&path) {
        e.0 -= 1;
    }
    reply
}

async fn answer(req: &HttpRequest, path: &str, inner: &Inner) -> HttpResponse {
    let scripted =
        inner.scripts.lock().unwrap_or_else(PoisonError::into_inner).get_mut(path).and_then(VecDeque::pop_front);
    let reply = scripted
        .or_else(|| inner.defaults.lock().unwrap_or_else(PoisonError::into_inner).get(path).cloned())
        .unwrap_or(Reply::Status(204));
    let status = |s: u16| actix_web::http::StatusCode::from_u16(s).unwrap_or(actix_web::http::StatusCode::OK);
    match reply {
        Reply::Status(s) => HttpResponse::build(status(s)).body(format!("answer {s}")),
        Reply::WithHeader(s, name, value) => HttpResponse::build(status(s)).insert_header((name, value)).finish(),
        Reply::Slow(wait, s) => {
            tokio::time::sleep(wait).await;
            HttpResponse::build(status(s)).finish()
        }
        Reply::Redirect(s, to) => {
            let host = req.connection_info().host().to_owned();
            HttpResponse::build(status(s)).insert_header(("Location", format!("http://{host}{to}"))).finish()
        }
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        Self::start_with(false).await
    }

    /// Records only `(path, webhook-id, arrival)` and always answers 204 at once (benchmarks).
    pub async fn start_lean() -> Receiver {
        Self::start_with(true).await
    }

    async fn start_with(lean: bool) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let inner = Arc::new(Inner { lean, ..Inner::default() });
        let data = web::Data::from(Arc::clone(&inner));
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::default().limit(1024 * 1024))
                .default_service(web::to(handle))
        })
        .workers(if lean { 2 } else { 1 })
        .backlog(4096)
        .max_connections(100_000)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver { base: format!("http://127.0.0.1:{port}"), inner, handle }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0)
    }

    /// Replies for the next requests to `path`, in order; afterwards the default applies.
    pub fn script(&self, path: &str, replies: impl IntoIterator<Item = Reply>) {
        self.inner
            .scripts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(path.to_owned())
            .or_default()
            .extend(replies);
    }

    pub fn set_default(&self, path: &str, reply: Reply) {
        self.inner.defaults.lock().unwrap_or_else(PoisonError::into_inner).insert(path.to_owned(), reply);
    }

    pub fn received(&self, path: &str) -> Vec<Received> {
        self.inner
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The most requests to `path` that were being answered at the same time.
    pub fn max_concurrent(&self, path: &str) -> usize {
        self.inner.concurrency.lock().unwrap_or_else(PoisonError::into_inner).get(path).map_or(0, |e| e.1)
    }

    pub fn all_received(&self) -> Vec<Received> {
        self.inner.received.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Polls until `path` has received at least `n` requests; panics after `timeout`.
    pub async fn wait_for(&self, path: &str, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received(path);
            if got.len() >= n {
                return got;
            }
            if Instant::now() > deadline {
                panic!("{path}: expected {n} request(s) within {timeout:?}, got {}", got.len());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Lean mode: the `(path, webhook-id, arrival)` records so far.
    pub fn arrivals(&self) -> Vec<(String, String, Instant)> {
        self.inner.arrivals.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn arrival_count(&self) -> usize {
        self.inner.arrivals.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
