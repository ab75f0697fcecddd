//! Every option of both macros, at once.
use bough::prelude::*;

#[gen_server(restart = "temporary", shutdown = 10_000, id = "cache", name = "every_option_cache")]
pub struct Cache;

#[gen_server(shutdown = "brutal_kill")]
pub struct Killed;

#[gen_server(shutdown = "infinity", restart = "permanent")]
pub struct Patient;

#[gen_server]
impl GenServer for Cache {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Cache)
    }
}

#[gen_server]
impl GenServer for Killed {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Killed)
    }
}

#[gen_server]
impl GenServer for Patient {
    async fn init(_: u32) -> Init<Self> {
        Init::Ok(Patient)
    }
}

supervisor! {
    pub Workers {
        strategy: rest_for_one,
        max_restarts: 10,
        max_seconds: 60,
        name: "every_option_workers",
        children: [
            Cache,
            Killed { restart: transient, shutdown: 2000, id: "killed" },
            (Patient, 7) { shutdown: infinity },
            (Patient, 8) { id: "second", shutdown: brutal_kill, restart: temporary },
        ],
    }

    pub dynamic Pool {
        strategy: one_for_one,
        max_restarts: 5,
        max_seconds: 1,
        max_children: 100,
        extra_arguments: String::from("pool"),
        name: "every_option_pool",
    }

    pub Everything { strategy: one_for_all, children: [Workers, Pool] }
}

fn main() {
    let spec = Cache::child_spec(());
    assert_eq!(spec.child_id(), "cache");
    assert_eq!(spec.restart_type(), Restart::Temporary);
    assert_eq!(spec.shutdown_type(), Shutdown::millis(10_000));
    assert_eq!(<Cache as GenServerModule>::name().unwrap().to_string(), "every_option_cache");
    assert_eq!(Killed::child_spec(()).shutdown_type(), Shutdown::BrutalKill);
    assert_eq!(Patient::child_spec(1).shutdown_type(), Shutdown::Infinity);
    assert_eq!(<Workers as SupervisorModule>::name().to_string(), "every_option_workers");
    let (children, _) = Workers::init(());
    assert_eq!(children.len(), 4);
}
