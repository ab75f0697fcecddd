//! The callbacks block declares no types: each is read off its callback.
use bough::prelude::*;

pub struct Counter {
    count: u64,
}

pub enum Call {
    Get,
}

pub struct Tick;
pub struct Bump(u64);
pub struct Settle;

#[gen_server]
impl GenServer for Counter {
    async fn init(start: u64) -> Init<Self> {
        Init::Continue(Counter { count: start }, Settle)
    }

    async fn handle_call(&mut self, request: Call, _from: bough::ReplyTo<u64>) -> Reply<Self> {
        match request {
            Call::Get => Reply::Reply(self.count),
        }
    }

    async fn handle_cast(&mut self, Bump(n): Bump) -> NoReply<Self> {
        self.count += n;
        NoReply::NoReply
    }

    async fn handle_info(&mut self, _: Tick) -> NoReply<Self> {
        self.count += 1;
        NoReply::NoReply
    }

    async fn handle_continue(&mut self, _: Settle) -> NoReply<Self> {
        NoReply::NoReply
    }

    async fn terminate(&mut self, _reason: &ExitReason) {}
}

/// Explicit types win over inference, and kinds without callbacks are `Never`.
pub struct Quiet;

#[gen_server]
impl GenServer for Quiet {
    type Args = ();

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Quiet)
    }
}

fn types_are<S: GenServer<Args = u64, Call = Call, Reply = u64, Cast = Bump, Info = Tick, Continue = Settle>>() {}
fn never<S: GenServer<Args = (), Call = Never, Reply = Never, Cast = Never, Info = Never, Continue = Never>>() {}

fn main() {
    types_are::<Counter>();
    never::<Quiet>();
}
