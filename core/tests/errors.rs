//! `bough_core::Error`: one type that every precise error converts into with `?`, and
//! precise errors whose inner errors are their `source()`, not part of their message.

use std::error::Error as _;

use bough_core::prelude::*;
use bough_core::{CallError, ChildError, Error, StartError};

/// Starts, or refuses to (`init` stops with the argument), and answers calls.
struct Worker;

impl GenServer for Worker {
    type Args = Option<&'static str>;
    type Call = ();
    type Reply = ();
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(refusal: Option<&'static str>) -> Init<Self> {
        match refusal {
            Some(why) => Init::Stop(ExitReason::error(why)),
            None => Init::Ok(Worker),
        }
    }

    async fn handle_call(&mut self, _: (), _from: ReplyTo<()>) -> Reply<Self> {
        Reply::Reply(())
    }
}

/// Every message in the chain of `error`, outermost first.
fn chain(error: &dyn std::error::Error) -> Vec<String> {
    let mut messages = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        messages.push(inner.to_string());
        source = inner.source();
    }
    messages
}

#[test]
fn each_precise_error_converts_into_error_and_stays_matchable() {
    fn call() -> Result<(), Error> {
        Err(CallError::Timeout)?
    }
    fn start() -> Result<(), Error> {
        Err(StartError::MaxChildren)?
    }
    fn child() -> Result<(), Error> {
        Err(ChildError::Running)?
    }
    assert_eq!(call(), Err(Error::Call(CallError::Timeout)));
    assert_eq!(start(), Err(Error::Start(StartError::MaxChildren)));
    assert_eq!(child(), Err(Error::Child(ChildError::Running)));
}

#[test]
fn a_call_error_converts_into_the_start_and_child_errors_of_a_supervisor_request() {
    fn start() -> Result<(), StartError> {
        Err(CallError::NoProc)?
    }
    fn child() -> Result<(), ChildError> {
        Err(CallError::NoProc)?
    }
    assert_eq!(start(), Err(StartError::Supervisor(CallError::NoProc)));
    assert_eq!(child(), Err(ChildError::Supervisor(CallError::NoProc)));
}

#[test]
fn error_shows_and_chains_exactly_as_the_error_it_holds() {
    let precise = StartError::Supervisor(CallError::Timeout);
    let error = Error::from(precise.clone());
    assert_eq!(error.to_string(), precise.to_string());
    assert_eq!(chain(&error), chain(&precise));
    assert_eq!(
        chain(&Error::from(CallError::NoProc)),
        ["no process (noproc)"]
    );
}

#[test]
fn inner_errors_are_sources_and_not_repeated_in_the_message() {
    let cases: [(&dyn std::error::Error, &[&str]); 4] = [
        (
            &StartError::Supervisor(CallError::NoProc),
            &["the supervisor could not be reached", "no process (noproc)"],
        ),
        (
            &ChildError::Supervisor(CallError::Timeout),
            &["the supervisor could not be reached", "the call timed out"],
        ),
        (
            &ChildError::Start(StartError::Ignore),
            &["the child failed to start", "init returned ignore"],
        ),
        (
            &StartError::FailedToStartChild {
                id: "loader".into(),
                reason: Box::new(StartError::Supervisor(CallError::NoProc)),
            },
            &[
                "child `loader` failed to start",
                "the supervisor could not be reached",
                "no process (noproc)",
            ],
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(chain(error), expected);
    }
}

#[test]
fn errors_without_an_inner_error_have_no_source() {
    assert!(CallError::Exited(ExitReason::Killed).source().is_none());
    assert!(
        StartError::Init(ExitReason::error("bad config"))
            .source()
            .is_none()
    );
    assert!(ChildError::NotFound.source().is_none());
    assert!(Error::from(CallError::Timeout).source().is_none());
}

/// A program that starts, calls and manages children, with one error type throughout.
async fn session(missing_child: &str) -> Result<(), Error> {
    let sup = Supervisor::start_link(
        [ChildSpec::worker::<Worker>(None).name("errors_worker")],
        SupervisorOptions::new(Strategy::OneForOne),
    )
    .await?;
    gen_server::call::<Worker>("errors_worker", ()).await?;
    let outcome = sup.terminate_child(missing_child).await;
    sup.stop(ExitReason::Shutdown).await?;
    outcome?;
    gen_server::call::<Worker>("errors_worker", ()).await?;
    Ok(())
}

#[tokio::test]
async fn a_program_uses_question_marks_through_starts_calls_and_child_management() {
    assert_eq!(
        session("no_such_child").await,
        Err(Error::Child(ChildError::NotFound))
    );
    // The child's default id is its type's name, so terminating it works; the call after
    // the supervisor stopped finds no process.
    assert_eq!(session("Worker").await, Err(Error::Call(CallError::NoProc)));
}

#[tokio::test]
async fn a_child_that_fails_to_start_is_the_source_of_its_supervisors_error() {
    let error: Error = Supervisor::start_link(
        [ChildSpec::worker::<Worker>(Some("no rules url")).id("loader")],
        SupervisorOptions::new(Strategy::OneForOne),
    )
    .await
    .expect_err("the child refuses to start")
    .into();
    assert_eq!(
        chain(&error),
        [
            "child `loader` failed to start",
            "init failed: no rules url"
        ]
    );
    match error {
        Error::Start(StartError::FailedToStartChild { id, reason }) => {
            assert_eq!(id, "loader");
            assert_eq!(*reason, StartError::Init(ExitReason::error("no rules url")));
        }
        other => panic!("expected FailedToStartChild, got {other:?}"),
    }
}
