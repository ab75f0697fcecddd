//! The seed's three Elixir modules, in the same shape.
use bough::prelude::*;

#[gen_server(restart = "transient")]
pub struct AuthDataLoader {
    url: String,
}

pub struct DelayedInit;

#[gen_server]
impl GenServer for AuthDataLoader {
    async fn init(url: String) -> Init<Self> {
        println!("worker {} started with {url}", self_pid());
        Init::Continue(AuthDataLoader { url }, DelayedInit)
    }

    async fn handle_continue(&mut self, _: DelayedInit) -> NoReply<Self> {
        println!("load data from {}", self.url);
        println!("work done");
        NoReply::Stop(ExitReason::Normal)
    }
}

supervisor! {
    /// Starts a loader on demand.
    pub dynamic AuthDataLoaderSup { strategy: one_for_one }
}

impl AuthDataLoaderSup {
    /// Shadows the generated `start_child(spec)`, as the seed's module does.
    pub async fn start_child() -> Result<Pid, StartError> {
        let url = "http://auth_service.some_cluster.data_center/rules".to_string();
        let spec = AuthDataLoader::child_spec(url);
        <Self as DynamicSupervisorModule>::start_child(spec).await
    }
}

supervisor! {
    pub MyService { strategy: one_for_one, children: [AuthDataLoaderSup] }
}

impl MyService {
    pub async fn start() -> Result<Supervisor, StartError> {
        Self::start_link().await
    }

    pub async fn update_auth_rules() -> Result<Pid, StartError> {
        AuthDataLoaderSup::start_child().await
    }
}

fn main() {
    let _ = MyService::start();
    let _ = MyService::update_auth_rules();
}
