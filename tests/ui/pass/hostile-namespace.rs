//! Generated code must not care what the user's crate calls its own items.
#![deny(unused_qualifications, unused_imports)]
#![allow(dead_code)]

use bough::{gen_server, supervisor, GenServer, Init, NoReply, Reply, ReplyTo};

struct Result;
struct Option;
struct Box;
struct Vec;
struct String;
struct Supervisor;
struct ChildSpec;
struct Name;
struct Child;
struct Never;
mod core {}
mod std {}

#[gen_server(restart = "transient", name = "hostile")]
pub struct Server;

#[gen_server]
impl GenServer for Server {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Server)
    }

    async fn handle_call(&mut self, n: u32, _from: ReplyTo<u32>) -> Reply<Self> {
        Reply::Reply(n)
    }

    async fn handle_cast(&mut self, _: u8) -> NoReply<Self> {
        NoReply::NoReply
    }
}

supervisor! {
    pub Sup { strategy: one_for_one, children: [Server] }
    pub dynamic Dyn { max_children: 3 }
}

fn main() {}
