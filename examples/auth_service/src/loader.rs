//! The loader: a short-lived worker that fetches the rules over HTTP, saves them and stops,
//! as the seed's `AuthDataLoader` does. A failed load is a crash: the transient loader is
//! restarted and tries again, within its supervisor's restart intensity.

use std::time::Duration;

use bough::prelude::*;
use tracing::{info, warn};

use crate::rules::RulesDoc;
use crate::store::{RulesStore, Saved};

/// Where to load from, and how long to wait for an answer.
#[derive(Clone)]
pub struct LoaderConfig {
    pub url: String,
    pub http: reqwest::Client,
}

impl LoaderConfig {
    pub fn new(url: impl Into<String>, timeout: Duration) -> LoaderConfig {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("an HTTP client without TLS builds");
        LoaderConfig {
            url: url.into(),
            http,
        }
    }
}

/// Registered under one name, so that at most one load runs at a time: a second start
/// while one runs gets `AlreadyStarted` with the running loader's pid.
#[gen_server(restart = "transient", name = "auth_data_loader")]
pub struct AuthDataLoader {
    config: LoaderConfig,
}

pub struct Load;

#[gen_server]
impl GenServer for AuthDataLoader {
    async fn init(config: LoaderConfig) -> Init<Self> {
        info!(pid = %self_pid(), url = %config.url, "loader started");
        Init::Continue(AuthDataLoader { config }, Load)
    }

    async fn handle_continue(&mut self, _: Load) -> NoReply<Self> {
        let doc = match self.load().await {
            Ok(doc) => doc,
            Err(error) => {
                warn!(pid = %self_pid(), %error, "load failed");
                return NoReply::Stop(ExitReason::error(error));
            }
        };
        match RulesStore::save(doc).await {
            Ok(Saved::Published { version, rules }) => info!(version, rules, "rules loaded"),
            Ok(Saved::Stale { current }) => info!(current, "rules unchanged"),
            Err(error) => return NoReply::Stop(ExitReason::error(error)),
        }
        NoReply::Stop(ExitReason::Normal)
    }
}

impl AuthDataLoader {
    async fn load(&self) -> Result<RulesDoc, reqwest::Error> {
        let response = self.config.http.get(&self.config.url).send().await?;
        response.error_for_status()?.json::<RulesDoc>().await
    }
}
