//! A real SMTP server for tests: it listens on `127.0.0.1:0`, accepts every mail and keeps the
//! raw bytes and the envelope for assertions. It can be switched "down", answering `421` (a
//! transient failure, RFC 5321 §4.2.1) to new connections and to the next command of open
//! sessions, and back "up", so tests can drive the outbox's retry path.
//!
//! Written here rather than taken from `mailin-embedded` because tests need the down/up switch
//! and an async wait, and the protocol subset lettre uses is small: EHLO/HELO, MAIL FROM,
//! RCPT TO, DATA (with dot-unstuffing), RSET, NOOP, VRFY, QUIT. No TLS, no AUTH.
//!
//! The server runs on its own thread with its own runtime, so it keeps answering whatever the
//! test does with its runtime (current-thread `#[tokio::test]`, `actix_web::test`, blocking
//! reqwest calls on the test thread).

// Several test binaries mount this file and each uses a different subset of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Larger messages are answered with 552 (and not stored), so a runaway test fails clearly.
const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// One accepted mail, as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Reverse-path of `MAIL FROM` (empty for the null sender `<>`).
    pub envelope_from: String,
    /// Forward-paths of every accepted `RCPT TO`, in order.
    pub envelope_to: Vec<String>,
    /// The message after dot-unstuffing, with its CRLF line ends, without the final `.` line.
    pub raw: Vec<u8>,
}

impl ReceivedMail {
    pub fn parsed(&self) -> ParsedMail {
        ParsedMail::parse(&self.raw)
    }
}

#[derive(Default)]
struct Shared {
    mails: Mutex<Vec<ReceivedMail>>,
    down: AtomicBool,
}

impl Shared {
    fn mails(&self) -> MutexGuard<'_, Vec<ReceivedMail>> {
        // A test that panicked while holding the lock must not hide the mails from the next
        // assertion: the data is a plain Vec and stays consistent.
        self.mails
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }
}

pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SmtpSink {
    /// Binds `127.0.0.1:0` and starts serving. Works from sync and async code alike.
    pub fn start() -> SmtpSink {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("smtp sink: bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("smtp sink: non-blocking listener");
        let addr = listener.local_addr().expect("smtp sink: local address");
        let shared = Arc::new(Shared::default());
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("smtp-sink-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("smtp sink: runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("smtp sink: tokio listener");
                    loop {
                        tokio::select! {
                            _ = &mut stop => break,
                            accepted = listener.accept() => {
                                if let Ok((stream, _)) = accepted {
                                    tokio::spawn(session(stream, Arc::clone(&state)));
                                }
                            }
                        }
                    }
                });
                // Dropping the runtime here cancels the sessions still open.
            })
            .expect("smtp sink: spawn thread");
        SmtpSink {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A URL for `AsyncSmtpTransport::from_url` / `SRDI_SMTP_URL`: plain SMTP, no TLS.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.addr.port())
    }

    /// Everything received so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.mails().clone()
    }

    pub fn clear(&self) {
        self.shared.mails().clear();
    }

    /// `true`: answer 421 to new connections and to the next command of open sessions.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Waits until at least `n` mails arrived and returns all of them; panics after `timeout`
    /// with what did arrive, which is the message a failing test needs.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(mails) = self.at_least(n, deadline, timeout) {
                return mails;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// [`SmtpSink::wait_for`] for tests without a runtime on their thread.
    pub fn wait_for_blocking(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(mails) = self.at_least(n, deadline, timeout) {
                return mails;
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    fn at_least(
        &self,
        n: usize,
        deadline: Instant,
        timeout: Duration,
    ) -> Option<Vec<ReceivedMail>> {
        let mails = self.messages();
        if mails.len() >= n {
            return Some(mails);
        }
        if Instant::now() >= deadline {
            let summary: Vec<String> = mails
                .iter()
                .map(|m| {
                    format!(
                        "{:?} -> {:?}: {:?}",
                        m.envelope_from,
                        m.envelope_to,
                        m.parsed().subject
                    )
                })
                .collect();
            panic!(
                "smtp sink: expected {n} mail(s) within {timeout:?}, got {}: {summary:#?}",
                mails.len()
            );
        }
        None
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const DOWN_REPLY: &[u8] = b"421 4.3.2 smtp sink is down, try again later\r\n";

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    // Errors only mean the client went away; nothing to report to the test.
    let _ = serve(stream, &shared).await;
}

async fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    if shared.is_down() {
        writer.write_all(DOWN_REPLY).await?;
        return writer.shutdown().await;
    }
    writer
        .write_all(b"220 127.0.0.1 smtp-sink ESMTP ready\r\n")
        .await?;

    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        if shared.is_down() {
            writer.write_all(DOWN_REPLY).await?;
            return writer.shutdown().await;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        let reply: &[u8] = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                b"250-127.0.0.1 smtp-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 33554432\r\n"
            }
            "HELO" => b"250 127.0.0.1 smtp-sink\r\n",
            "MAIL" => match (from.is_some(), path_after(arg, "FROM:")) {
                (true, _) => b"503 5.5.1 sender already given\r\n",
                (false, Some(path)) => {
                    from = Some(path);
                    b"250 2.1.0 sender ok\r\n"
                }
                (false, None) => b"501 5.5.4 syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match (from.is_some(), path_after(arg, "TO:")) {
                (false, _) => b"503 5.5.1 need MAIL first\r\n",
                (true, Some(path)) if !path.is_empty() => {
                    rcpts.push(path);
                    b"250 2.1.5 recipient ok\r\n"
                }
                (true, _) => b"501 5.5.4 syntax: RCPT TO:<address>\r\n",
            },
            "DATA" if rcpts.is_empty() => b"503 5.5.1 need RCPT first\r\n",
            "DATA" => {
                writer
                    .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let Some(raw) = read_data(&mut reader).await? else {
                    return Ok(());
                };
                let envelope_from = from.take().unwrap_or_default();
                let envelope_to = std::mem::take(&mut rcpts);
                if raw.len() > MAX_MESSAGE_BYTES {
                    b"552 5.3.4 message too big\r\n"
                } else {
                    shared.mails().push(ReceivedMail {
                        envelope_from,
                        envelope_to,
                        raw,
                    });
                    b"250 2.0.0 queued\r\n"
                }
            }
            "RSET" => {
                from = None;
                rcpts.clear();
                b"250 2.0.0 reset\r\n"
            }
            "NOOP" => b"250 2.0.0 ok\r\n",
            "VRFY" => b"252 2.5.2 cannot verify, will accept\r\n",
            "QUIT" => {
                writer.write_all(b"221 2.0.0 bye\r\n").await?;
                return writer.shutdown().await;
            }
            "" => b"500 5.5.2 empty command\r\n",
            _ => b"502 5.5.1 command not implemented\r\n",
        };
        writer.write_all(reply).await?;
    }
}

/// `FROM:<a@b> BODY=8BITMIME` → `a@b`; tolerates a space after the colon and a bare address.
fn path_after(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        Some(inner[..end].to_owned())
    } else {
        rest.split_whitespace().next().map(str::to_owned)
    }
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing (RFC 5321 §4.5.2). `None` when the
/// client disconnects before the end.
async fn read_data<R>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>>
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(data));
        }
        let content = line.strip_prefix(b".").unwrap_or(&line);
        // Keep reading past the limit so the client still gets its reply, but stop storing.
        if data.len() <= MAX_MESSAGE_BYTES {
            data.extend_from_slice(content);
        }
    }
}

/// The parts of a received mail that tests assert on, decoded by `mail-parser`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedMail {
    pub message_id: Option<String>,
    /// Addresses of the `From` header.
    pub from: Vec<String>,
    /// Addresses of the `To` header (the envelope recipients are on [`ReceivedMail`]).
    pub to: Vec<String>,
    /// Decoded (RFC 2047) subject.
    pub subject: Option<String>,
    /// The first `text/plain` part that is not an attachment, decoded to UTF-8.
    pub text_body: Option<String>,
    /// The first inline `text/calendar` part.
    pub calendar: Option<ParsedCalendarPart>,
    pub attachments: Vec<ParsedAttachment>,
    /// Every header name and raw value, for the odd assertion the fields above do not cover.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCalendarPart {
    /// The `method` parameter of the Content-Type, as sent.
    pub method: Option<String>,
    pub charset: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAttachment {
    pub filename: Option<String>,
    /// `type/subtype`, lower case.
    pub content_type: String,
    pub content: Vec<u8>,
}

impl ParsedMail {
    /// Panics when `raw` is not a parsable message: in a test that is the failure to report.
    pub fn parse(raw: &[u8]) -> ParsedMail {
        use mail_parser::{MessageParser, MimeHeaders};

        let msg = MessageParser::default()
            .parse(raw)
            .expect("smtp sink: mail-parser could not parse the message");
        let addresses = |addr: Option<&mail_parser::Address<'_>>| -> Vec<String> {
            addr.map(|a| {
                a.iter()
                    .filter_map(|x| x.address().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
        };
        let mut parsed = ParsedMail {
            message_id: msg.message_id().map(str::to_owned),
            from: addresses(msg.from()),
            to: addresses(msg.to()),
            subject: msg.subject().map(str::to_owned),
            headers: msg
                .headers_raw()
                .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
                .collect(),
            ..ParsedMail::default()
        };
        for part in &msg.parts {
            let Some(ct) = part.content_type() else {
                if parsed.text_body.is_none() && !part.is_multipart() && msg.parts.len() == 1 {
                    // No Content-Type at all means text/plain (RFC 2045 §5.2).
                    parsed.text_body = part.text_contents().map(str::to_owned);
                }
                continue;
            };
            let ctype = ct.ctype().to_ascii_lowercase();
            let subtype = ct.subtype().unwrap_or_default().to_ascii_lowercase();
            let is_attachment = part
                .content_disposition()
                .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"));
            if is_attachment {
                parsed.attachments.push(ParsedAttachment {
                    filename: part.attachment_name().map(str::to_owned),
                    content_type: format!("{ctype}/{subtype}"),
                    content: part.contents().to_vec(),
                });
                continue;
            }
            match (ctype.as_str(), subtype.as_str()) {
                ("text", "plain") if parsed.text_body.is_none() => {
                    parsed.text_body = part.text_contents().map(str::to_owned);
                }
                ("text", "calendar") if parsed.calendar.is_none() => {
                    parsed.calendar = Some(ParsedCalendarPart {
                        method: ct.attribute("method").map(str::to_owned),
                        charset: ct.attribute("charset").map(str::to_owned),
                        text: part.text_contents().map(str::to_owned).unwrap_or_else(|| {
                            String::from_utf8_lossy(part.contents()).into_owned()
                        }),
                    });
                }
                _ => {}
            }
        }
        parsed
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
