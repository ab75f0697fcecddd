use bough::prelude::*;

pub struct Watcher;

#[gen_server]
impl GenServer for Watcher {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Watcher)
    }

    async fn handle_down(&mut self, pid: Pid, reason: ExitReason) -> NoReply<Self> {
        let _ = (pid, reason);
        NoReply::NoReply
    }

    async fn handle_exit(&mut self, reason: ExitReason) -> NoReply<Self> {
        let _ = reason;
        NoReply::NoReply
    }

    async fn handle_timeout(&mut self, after: std::time::Duration) -> NoReply<Self> {
        let _ = after;
        NoReply::NoReply
    }
}

fn main() {}
