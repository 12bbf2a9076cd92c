//! Web sign-in: with an API key, or with a one-time link mailed to a firm's or a fund's contact
//! address; sessions that re-check their credential on every use.
//!
//! The principal of a session is the one its credential gives, built by the same rules as the
//! API's: a key session acts as its key (so a revoked key ends it at the next page load); a link
//! session acts as the firm or fund whose contact the address was, for as long as it still is.
//! The principal's `key_id` of a link session is the id of the link that opened it, so every
//! audit column names the credential that acted.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::Db;
use crate::domain::access::{Principal, Role};
use crate::error::AppResult;
use crate::mail::ics::Party;
use crate::mail::outbox;
use crate::mail::templates::{MailContext, MailKind, MailRequest, SignInLinkEntry};
use crate::store::sessions::{self as store, Credential, NewLink, NewSession};
use crate::store::{Conn, keys};

/// How long a mailed link works.
pub const LINK_VALID_MINUTES: i64 = 15;
/// Links one firm or fund can be sent per validity window; further requests send nothing, so an
/// address cannot be flooded by someone who only knows it.
pub const LINKS_PER_WINDOW: i64 = 3;
/// Firms and funds one address can sign in as from one mail.
const OWNERS_PER_ADDRESS: i64 = 5;
/// `last_seen_at` is written at most this often, so that a page load is a read, not a write.
const TOUCH_EVERY_SECS: i64 = 60;

/// Session lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Lifetimes {
    pub fn from_config(config: &crate::config::Config) -> Lifetimes {
        Lifetimes {
            idle: Duration::minutes(i64::from(config.session_idle_minutes)),
            absolute: Duration::hours(i64::from(config.session_max_hours)),
        }
    }
}

/// A fresh 256-bit secret, URL-safe.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The digest under which a secret (session token, link token) is stored.
pub fn digest(secret: &str) -> String {
    keys::hash_key(secret)
}

/// Addresses compare without surrounding space and without ASCII case.
pub fn normalise_email(address: &str) -> String {
    address.trim().to_ascii_lowercase()
}

fn email_digest(address: &str) -> String {
    hex::encode(Sha256::digest(normalise_email(address).as_bytes()))
}

/// A signed-in session as a page sees it.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub id: Uuid,
    pub principal: Principal,
}

/// What a successful sign-in hands the browser: the session token (set as the cookie).
#[derive(Debug)]
pub struct Opened {
    pub token: String,
    pub session: Session,
}

/// Who a new session acts as and by which credential.
struct Grant<'a> {
    role: Role,
    subject_id: Option<Uuid>,
    credential: Credential,
    email_hash: Option<&'a str>,
}

async fn open(
    conn: &mut Conn,
    grant: Grant<'_>,
    replaces: Option<&str>,
    life: Lifetimes,
    now: DateTime<Utc>,
) -> AppResult<Opened> {
    let Grant { role, subject_id, credential, email_hash } = grant;
    store::purge_expired(conn, now).await?;
    if let Some(old) = replaces {
        store::delete(conn, &digest(old)).await?;
    }
    let token = new_secret();
    let id = Uuid::now_v7();
    let token_hash = digest(&token);
    store::insert(
        conn,
        &NewSession {
            id,
            token_hash: &token_hash,
            role,
            subject_id,
            credential,
            email_hash,
            expires_at: now + life.absolute,
        },
        now,
    )
    .await?;
    let key_id = match credential {
        Credential::Key(k) => k,
        Credential::Link { link_id } => link_id,
    };
    let principal = Principal::new(key_id, role, subject_id)
        .ok_or_else(|| anyhow::anyhow!("a sign-in grant whose role and subject do not fit together"))?;
    Ok(Opened { token, session: Session { id, principal } })
}

/// Signs in with an API key. `None` when the key is unknown or revoked. A session the browser
/// already had is ended: every sign-in gets a new session id.
#[tracing::instrument(skip_all)]
pub async fn sign_in_with_key(
    db: &Db,
    key: &str,
    replaces: Option<&str>,
    life: Lifetimes,
    now: DateTime<Utc>,
) -> AppResult<Option<Opened>> {
    let mut tx = db.begin().await?;
    let Some(p) = keys::authenticate(&mut tx, key.trim()).await? else { return Ok(None) };
    let grant =
        Grant { role: p.role(), subject_id: p.subject(), credential: Credential::Key(p.key_id), email_hash: None };
    let opened = open(&mut tx, grant, replaces, life, now).await?;
    tx.commit().await?;
    tracing::info!(session_id = %opened.session.id, key_id = %p.key_id, role = %p.role(), "signed in with a key");
    Ok(Some(opened))
}

/// Mails one-time links to `address` if it is the contact of firms or funds. Says nothing about
/// whether it is: the caller answers the same either way. `link_base` is the public base URL.
#[tracing::instrument(skip_all)]
pub async fn request_link(
    db: &Db,
    address: &str,
    link_base: &str,
    organizer: Party,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let wanted = normalise_email(address);
    if !outbox::deliverable(&wanted) {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    let owners = store::contact_owners(&mut tx, &wanted, OWNERS_PER_ADDRESS).await?;
    let window_start = now - Duration::minutes(LINK_VALID_MINUTES);
    let mut links = Vec::new();
    let mut send_to = None;
    for owner in owners {
        if store::links_since(&mut tx, owner.subject_id, window_start).await? >= LINKS_PER_WINDOW {
            tracing::warn!(subject_id = %owner.subject_id, "sign-in link not sent: too many requested recently");
            continue;
        }
        let token = new_secret();
        let link_id = Uuid::now_v7();
        store::insert_link(
            &mut tx,
            &NewLink {
                id: link_id,
                token_hash: &digest(&token),
                role: owner.role,
                subject_id: owner.subject_id,
                email_hash: &email_digest(&owner.email),
                expires_at: now + Duration::minutes(LINK_VALID_MINUTES),
            },
            now,
        )
        .await?;
        tracing::info!(link_id = %link_id, subject_id = %owner.subject_id, role = %owner.role, "sign-in link issued");
        links.push(SignInLinkEntry {
            name: owner.name.clone(),
            url: format!("{}/signin/link?token={token}", link_base.trim_end_matches('/')),
        });
        send_to.get_or_insert(owner.email);
    }
    if let Some(email) = send_to.filter(|e| outbox::deliverable(e)) {
        let request = MailRequest {
            kind: MailKind::SignInLink { links, valid_minutes: LINK_VALID_MINUTES as u32 },
            context: MailContext::notice(Party { name: email.clone(), email }, organizer, now),
        };
        outbox::enqueue(&mut tx, &request, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Uses up a mailed link and opens a session for its firm or fund. `None` when the link is
/// unknown, used, expired, or its address is no longer that subject's contact.
#[tracing::instrument(skip_all)]
pub async fn redeem_link(
    db: &Db,
    token: &str,
    replaces: Option<&str>,
    life: Lifetimes,
    now: DateTime<Utc>,
) -> AppResult<Option<Opened>> {
    let mut tx = db.begin().await?;
    let Some(link) = store::redeem_link(&mut tx, &digest(token.trim()), now).await? else { return Ok(None) };
    let contact = store::contact_of(&mut tx, link.role, link.subject_id).await?;
    if contact.as_deref().map(email_digest).as_deref() != Some(link.email_hash.as_str()) {
        tx.commit().await?;
        return Ok(None);
    }
    let grant = Grant {
        role: link.role,
        subject_id: Some(link.subject_id),
        credential: Credential::Link { link_id: link.id },
        email_hash: Some(&link.email_hash),
    };
    let opened = open(&mut tx, grant, replaces, life, now).await?;
    tx.commit().await?;
    tracing::info!(session_id = %opened.session.id, link_id = %link.id, role = %link.role, "signed in with a mailed link");
    Ok(Some(opened))
}

/// The live session of a token: `None` when it is unknown, idle or past its lifetime, or its
/// credential no longer holds (key revoked, contact address changed).
#[tracing::instrument(skip_all)]
pub async fn load(db: &Db, token: &str, life: Lifetimes, now: DateTime<Utc>) -> AppResult<Option<Session>> {
    let mut conn = db.pool().acquire().await?;
    let Some(s) = store::find(&mut conn, &digest(token)).await? else { return Ok(None) };
    let credential_holds = match s.credential {
        Credential::Key(_) => s.key_live,
        Credential::Link { .. } => {
            s.current_contact.as_deref().map(email_digest).is_some_and(|d| Some(d) == s.email_hash)
        }
    };
    if now >= s.expires_at || now >= s.last_seen_at + life.idle || !credential_holds {
        return Ok(None);
    }
    if now - s.last_seen_at >= Duration::seconds(TOUCH_EVERY_SECS) {
        store::touch(&mut conn, s.id, now).await?;
    }
    let key_id = match s.credential {
        Credential::Key(k) => k,
        Credential::Link { link_id } => link_id,
    };
    // A stored session whose role and subject do not fit together grants nothing.
    Ok(Principal::new(key_id, s.role, s.subject_id).map(|principal| Session { id: s.id, principal }))
}

#[tracing::instrument(skip_all)]
pub async fn sign_out(db: &Db, token: &str) -> AppResult<()> {
    let mut conn = db.pool().acquire().await?;
    store::delete(&mut conn, &digest(token)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_and_distinct_and_addresses_normalise() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_ne!(digest(&a), a);
        assert_eq!(email_digest(" CFO@Firm.example.cn "), email_digest("cfo@firm.example.cn"));
        assert_ne!(email_digest("cfo@firm.example.cn"), email_digest("ceo@firm.example.cn"));
    }
}
