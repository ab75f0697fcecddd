//! Every public handle can be shared across tasks, and every API future can be spawned.

mod common;

use bough_core::prelude::*;
use common::{Args, Call, Log, Probe};

fn shared<T: Send + Sync + Clone + 'static>() {}
fn sendable<T: Send + 'static>() {}
fn error<T: std::error::Error + Send + Sync + Clone + PartialEq + 'static>() {}
fn spawnable<F: std::future::Future + Send>(_: F) {}

#[test]
fn handles_are_send_sync_and_cheap_to_clone() {
    shared::<Server<Probe>>();
    shared::<Supervisor>();
    shared::<DynamicSupervisor>();
    shared::<Pid>();
    shared::<Name>();
    shared::<Registry<String>>();
    shared::<ChildSpec>();
    shared::<ExitReason>();
    shared::<StartOptions>();
    shared::<SupervisorOptions>();
    shared::<DynamicSupervisorOptions>();
    sendable::<ReplyTo<String>>();
    error::<CallError>();
    error::<StartError>();
    error::<ChildError>();
}

#[test]
fn api_futures_are_send() {
    let log = Log::new();
    spawnable(gen_server::start_link::<Probe>(Args::new("a", &log)));
    spawnable(gen_server::call::<Probe>("x", Call::Ping));
    spawnable(Supervisor::start_link(
        Vec::new(),
        SupervisorOptions::new(Strategy::OneForOne),
    ));
    spawnable(DynamicSupervisor::start_link(
        DynamicSupervisorOptions::new(),
    ));
    fn with_handles(server: &Server<Probe>, sup: &Supervisor, dynamic: &DynamicSupervisor) {
        spawnable(server.call(Call::Ping));
        spawnable(server.stop(ExitReason::Normal));
        spawnable(sup.which_children());
        spawnable(sup.start_child(ChildSpec::worker::<Probe>(Args::new("b", &Log::new()))));
        spawnable(dynamic.start_child(ChildSpec::worker::<Probe>(Args::new("c", &Log::new()))));
        spawnable(dynamic.count_children());
    }
    let _ = with_handles;
}
