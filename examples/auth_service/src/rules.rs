//! The rules: which client may call which service. The service keeps the last good rules
//! in a view that request handlers read without locking, and that a load replaces whole.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

/// What the auth service serves: `{"version": 2, "rules": [{"client": .., "service": ..}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesDoc {
    pub version: u64,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    pub client: String,
    pub service: String,
}

/// The rules, ready to answer questions.
#[derive(Debug, Default)]
pub struct Rules {
    pub version: u64,
    allowed: HashSet<(String, String)>,
}

impl From<RulesDoc> for Rules {
    fn from(doc: RulesDoc) -> Rules {
        Rules {
            version: doc.version,
            allowed: doc
                .rules
                .into_iter()
                .map(|r| (r.client, r.service))
                .collect(),
        }
    }
}

impl Rules {
    pub fn allows(&self, client: &str, service: &str) -> bool {
        self.allowed
            .contains(&(client.to_owned(), service.to_owned()))
    }

    /// How many (client, service) pairs are allowed.
    pub fn len(&self) -> usize {
        self.allowed.len()
    }

    /// Whether no call is allowed at all.
    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty()
    }
}

/// The saved rules, shared by every reader: Elixir would keep them in a named ETS table.
/// Readers see either the old rules or the new ones, never a half-loaded set.
pub struct RulesView(ArcSwap<Rules>);

static VIEW: LazyLock<RulesView> =
    LazyLock::new(|| RulesView(ArcSwap::from_pointee(Rules::default())));

/// The process-wide view (version 0, no rules, until the first load).
pub fn view() -> &'static RulesView {
    &VIEW
}

impl RulesView {
    /// The current rules.
    pub fn current(&self) -> Arc<Rules> {
        self.0.load_full()
    }

    /// Is `client` allowed to call `service`?
    #[allow(dead_code)] // the example asks through `current()`, its tests through this
    pub fn allows(&self, client: &str, service: &str) -> bool {
        self.0.load().allows(client, service)
    }

    pub fn version(&self) -> u64 {
        self.0.load().version
    }

    /// Publishes `rules` in one step; only the rules store calls this.
    pub(crate) fn publish(&self, rules: Rules) {
        self.0.store(Arc::new(rules));
    }

    /// Back to no rules (for a fresh start of the service in tests).
    #[allow(dead_code)] // used by the tests
    pub fn reset(&self) {
        self.0.store(Arc::new(Rules::default()));
    }
}
