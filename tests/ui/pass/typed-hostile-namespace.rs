//! The typed form's generated code must not care what the user's crate calls its items.
#![deny(unused_qualifications, unused_imports, missing_docs)]
//! A crate with its own names.

use bough::{gen_server, supervisor, Init, NoReply, TypedReplyTo};

struct Result;
struct Option;
struct Vec;
struct String;
struct CallError;
struct Dest;
struct Server;
struct Duration;
struct Never;
#[allow(non_camel_case_types)]
struct answer;
mod core {}
mod std {}

/// A server whose handlers use the crate's own `Result` and `String` names.
pub struct Echo;

/// A message with a name generated code might use.
pub struct Call(pub u8);

#[gen_server(name = "typed_hostile_echo")]
impl Echo {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Echo)
    }

    /// Answers with the byte it got.
    #[call(timeout = 100)]
    pub async fn echo(&mut self, request: Call) -> u8 {
        request.0
    }

    /// Answers later.
    #[call]
    pub async fn later(&mut self, from: TypedReplyTo<u8>) -> NoReply<Self> {
        from.reply(1);
        NoReply::NoReply
    }

    /// Takes a byte.
    #[cast]
    pub async fn take(&mut self, message: u8) {
        let _ = message;
    }
}

supervisor! {
    /// The tree.
    pub Sup { strategy: one_for_one, children: [Echo] }
}

fn main() {
    let _ = (Result, Option, Vec, String, CallError, Dest, Server, Duration, Never, answer);
}
