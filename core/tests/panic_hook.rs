//! `report_panics_with_tracing`: a crash inside a process is one `tracing` event and
//! nothing on stderr; any other panic still reaches the previous hook. A panic hook is
//! global to the whole program, so these tests have a test binary of their own.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::process::Command;
use std::sync::{Arc, Mutex};

use bough_core::prelude::*;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Debug, Clone)]
struct Event {
    level: tracing::Level,
    target: String,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Event>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Event {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            fields,
        });
    }
}

impl Capture {
    fn crash_events(&self) -> Vec<Event> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|event| event.target == "bough::panic")
            .cloned()
            .collect()
    }
}

/// Panics on every call.
struct Crasher;

/// The line of the `panic!` in `Crasher::handle_call`.
const PANIC_LINE: u32 = line!() + 16;

impl GenServer for Crasher {
    type Args = ();
    type Call = ();
    type Reply = ();
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Crasher)
    }

    async fn handle_call(&mut self, _: (), _from: ReplyTo<()>) -> Reply<Self> {
        let rules = "corrupt";
        panic!("the rules are {rules}");
    }
}

const CRASH_TEST: &str = "a_crash_in_a_process_is_one_tracing_event_and_other_panics_are_not";

#[tokio::test]
async fn a_crash_in_a_process_is_one_tracing_event_and_other_panics_are_not() {
    bough_core::report_panics_with_tracing();
    // Installing it twice changes nothing.
    bough_core::report_panics_with_tracing();
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));

    let server = gen_server::start_link::<Crasher>(()).await.unwrap();
    assert_eq!(
        server.call(()).await,
        Err(CallError::Exited(ExitReason::Panic(
            "the rules are corrupt".into()
        ))),
        "the panic is still the process's crash"
    );
    let events = capture.crash_events();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.level, tracing::Level::ERROR);
    assert_eq!(event.fields["pid"], server.pid().to_string());
    assert_eq!(event.fields["message"], "the rules are corrupt");
    let location = &event.fields["location"];
    assert!(
        location.starts_with(&format!("{}:{PANIC_LINE}:", file!())),
        "{location}"
    );

    // Outside any process the panic goes to the previous hook, the default one here: its
    // output lands in the test's captured output, or on stderr with `--nocapture`.
    let outside = std::panic::catch_unwind(|| panic!("a panic outside any process"));
    assert!(outside.is_err());
    assert_eq!(capture.crash_events().len(), 1, "no event for it");
}

#[test]
fn a_crash_prints_nothing_on_stderr_even_with_backtraces_on() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([CRASH_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("the rules are"), "{stderr}");
    // The one panic outside a process was printed by the default hook, with its backtrace.
    assert_eq!(stderr.matches("panicked at").count(), 1, "{stderr}");
    assert!(stderr.contains("a panic outside any process"), "{stderr}");
    assert_eq!(stderr.matches("stack backtrace").count(), 1, "{stderr}");
}
