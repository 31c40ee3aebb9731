//! The state every listener shares: clock, images, accounts, tokens, limits, faults, log.

use crate::auth::{Client, TokenSigner, User};
use crate::clock::Clock;
use crate::config::SensorTiming;
use crate::faults::Faults;
use crate::log::RequestLog;
use crate::ratelimit::{RateLimitConfig, RateLimiter};
use crate::state::Images;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Shared emulator state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) clock: Clock,
    pub(crate) images: Images,
    pub(crate) signer: TokenSigner,
    pub(crate) users: RwLock<Vec<User>>,
    pub(crate) clients: RwLock<Vec<Client>>,
    pub(crate) rate: RateLimiter,
    /// The separate limit of `/csapi/vxx/images/list` (§6.2: 120 per 60 s).
    pub(crate) list_rate: RateLimiter,
    pub(crate) faults: Faults,
    pub(crate) log: RequestLog,
    pub(crate) sensor: RwLock<SensorTiming>,
    pub(crate) docker: Option<crate::docker::DockerState>,
    /// `https` with TLS (set at start), for absolute links such as `/images/list`'s `Link`.
    pub(crate) scheme: std::sync::OnceLock<&'static str>,
    token_lifetime_secs: AtomicU64,
    minted: std::sync::Mutex<std::collections::HashSet<String>>,
    revoked: std::sync::Mutex<std::collections::HashMap<String, u64>>,
}

impl Shared {
    #[allow(clippy::too_many_arguments, reason = "one-off constructor")]
    pub(crate) fn new(
        clock: Clock,
        signer: TokenSigner,
        users: Vec<User>,
        clients: Vec<Client>,
        rate: RateLimitConfig,
        seed: u64,
        token_lifetime_secs: u64,
        sensor: SensorTiming,
        docker: Option<crate::docker::DockerState>,
    ) -> Self {
        Shared {
            clock,
            images: Images::default(),
            signer,
            users: RwLock::new(users),
            clients: RwLock::new(clients),
            rate: RateLimiter::new(rate),
            list_rate: RateLimiter::new(RateLimitConfig {
                limit: 120,
                window_secs: 60,
            }),
            faults: Faults::new(seed),
            log: RequestLog::default(),
            sensor: RwLock::new(sensor),
            docker,
            scheme: std::sync::OnceLock::new(),
            token_lifetime_secs: AtomicU64::new(token_lifetime_secs),
            minted: std::sync::Mutex::default(),
            revoked: std::sync::Mutex::default(),
        }
    }

    pub(crate) fn token_lifetime_secs(&self) -> u64 {
        self.token_lifetime_secs.load(Ordering::SeqCst)
    }

    pub(crate) fn set_token_lifetime_secs(&self, secs: u64) {
        self.token_lifetime_secs.store(secs, Ordering::SeqCst);
    }

    /// Remembers a minted token so that it can be expired early.
    pub(crate) fn remember_token(&self, token: &str) {
        self.minted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(token.to_owned());
    }

    /// Expires every token issued so far (tokens minted later are unaffected).
    pub(crate) fn expire_tokens(&self) {
        let now = self.clock.now_ms();
        let mut minted = self
            .minted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut revoked = self
            .revoked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for t in minted.drain() {
            revoked.insert(t, now);
        }
    }

    /// When `token` was expired early, if it was.
    pub(crate) fn revoked_at(&self, token: &str) -> Option<u64> {
        self.revoked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .copied()
    }

    pub(crate) fn find_user(&self, username: &str, password: &str) -> Option<User> {
        self.users
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|u| u.username == username && u.password == password)
            .cloned()
    }

    pub(crate) fn find_client(&self, id: &str, secret: &str) -> Option<Client> {
        self.clients
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|c| c.client_id == id && c.client_secret == secret)
            .cloned()
    }

    pub(crate) fn sensor_timing(&self) -> SensorTiming {
        *self
            .sensor
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
