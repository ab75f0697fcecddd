//! The rules store: the one process that publishes rules, and only newer ones.

use bough::prelude::*;
use tracing::info;

use crate::rules::{Rules, RulesDoc, view};

/// The outcome of a save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Published: readers see these rules from now on.
    Published { version: u64, rules: usize },
    /// Not newer than what readers already see; kept the current rules.
    Stale { current: u64 },
}

#[gen_server(name = "rules_store")]
pub struct RulesStore;

#[gen_server]
impl GenServer for RulesStore {
    async fn init(_: ()) -> Init<Self> {
        info!(pid = %self_pid(), version = view().version(), "rules store started");
        Init::Ok(RulesStore)
    }

    async fn handle_call(&mut self, doc: RulesDoc, _from: ReplyTo<Saved>) -> Reply<Self> {
        let current = view().version();
        if doc.version <= current {
            return Reply::Reply(Saved::Stale { current });
        }
        let rules = Rules::from(doc);
        let saved = Saved::Published {
            version: rules.version,
            rules: rules.len(),
        };
        view().publish(rules);
        Reply::Reply(saved)
    }
}

impl RulesStore {
    /// Saves freshly loaded rules.
    pub async fn save(doc: RulesDoc) -> Result<Saved, CallError> {
        gen_server::call::<RulesStore>("rules_store", doc).await
    }
}
