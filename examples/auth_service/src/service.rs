//! The tree, in the seed's shape: `MyService` supervises the rules store, the named dynamic
//! supervisor of loaders, and the event listener.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bough::prelude::*;

use crate::events::EventListener;
use crate::loader::{AuthDataLoader, LoaderConfig};
use crate::store::RulesStore;

/// The service's configuration, like an Elixir application's environment.
#[derive(Clone)]
pub struct Settings {
    /// Where the auth service serves the rules.
    pub rules_url: String,
    /// How long a load may wait for the auth service.
    pub load_timeout: Duration,
    /// Where to listen for events (port 0: any free port).
    pub listen: SocketAddr,
}

static SETTINGS: RwLock<Option<Arc<Settings>>> = RwLock::new(None);

pub fn settings() -> Arc<Settings> {
    SETTINGS
        .read()
        .expect("settings readable")
        .clone()
        .expect("MyService::start sets the settings first")
}

supervisor! {
    /// Starts a loader on demand; at most 3 restarts in 5 seconds, as OTP's default.
    pub dynamic AuthDataLoaderSup { strategy: one_for_one, max_restarts: 3, max_seconds: 5 }

    /// The service's tree; the event listener starts last and stops first.
    pub MyService {
        strategy: one_for_one,
        children: [RulesStore, AuthDataLoaderSup, (EventListener, settings().listen)],
    }
}

impl AuthDataLoaderSup {
    /// Starts a loader, unless one is already running: then `AlreadyStarted` with its pid.
    pub async fn start_child() -> Result<Pid, StartError> {
        let settings = settings();
        let config = LoaderConfig::new(settings.rules_url.clone(), settings.load_timeout);
        <Self as DynamicSupervisorModule>::start_child(AuthDataLoader::child_spec(config)).await
    }
}

impl MyService {
    /// Starts the tree and the first load.
    pub async fn start(settings: Settings) -> Result<Supervisor, StartError> {
        *SETTINGS.write().expect("settings writable") = Some(Arc::new(settings));
        let tree = Self::start_link().await?;
        Self::update_auth_rules().await?;
        Ok(tree)
    }

    /// Loads the rules again: the seed's `update_auth_rules/0`.
    pub async fn update_auth_rules() -> Result<Pid, StartError> {
        AuthDataLoaderSup::start_child().await
    }
}
