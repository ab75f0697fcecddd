//! GenServer semantics: items 1–18 of `docs/semantics.md`.

mod common;

use std::time::Duration;

use bough_core::prelude::*;
use common::{Args, Call, Cast, Log, OnInit, Probe, alive_tasks, settle};
use tokio::time::Instant;

async fn start(args: Args) -> Result<Server<Probe>, StartError> {
    gen_server::start_link::<Probe>(args).await
}

#[tokio::test(start_paused = true)]
async fn core_01_start_link_returns_after_init_ran_in_the_new_process() {
    let log = Log::new();
    let t0 = Instant::now();
    let server = start(Args::new("a", &log).on_init(OnInit::Sleep(Duration::from_millis(300))))
        .await
        .unwrap();
    assert_eq!(t0.elapsed(), Duration::from_millis(300));
    assert_eq!(log.entries(), ["init a", "init done a"]);

    struct Me(Pid);
    impl GenServer for Me {
        type Args = ();
        type Call = ();
        type Reply = Pid;
        type Cast = Never;
        type Info = Never;
        type Continue = Never;
        async fn init(_: ()) -> Init<Self> {
            Init::Ok(Me(self_pid()))
        }
        async fn handle_call(&mut self, _: (), _: ReplyTo<Pid>) -> Reply<Self> {
            Reply::Reply(self.0)
        }
    }
    let me = gen_server::start_link::<Me>(()).await.unwrap();
    assert_eq!(
        me.call(()).await.unwrap(),
        me.pid(),
        "self_pid() in init is the new pid"
    );
    assert!(server.is_alive());
}

#[tokio::test]
async fn core_02_init_ok_gives_a_running_server() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();
    assert!(server.is_alive());
    assert_eq!(server.call(Call::Ping).await.unwrap(), "pong a");
    assert_eq!(
        server.pid().to_string(),
        format!(
            "#PID<0.{}.{}>",
            server.pid().as_raw() & 0xffff_ffff,
            server.pid().as_raw() >> 32
        )
    );
}

#[tokio::test(start_paused = true)]
async fn core_03_continue_runs_before_any_queued_message() {
    let log = Log::new();
    let name = "core_03_continue";
    // Start with a continue, and cast to it by name while its init still runs.
    struct Slow;
    impl GenServer for Slow {
        type Args = Log;
        type Call = Never;
        type Reply = Never;
        type Cast = &'static str;
        type Info = Never;
        type Continue = ();
        async fn init(log: Log) -> Init<Self> {
            tokio::time::sleep(Duration::from_millis(50)).await;
            log.push("init");
            Init::Continue(Slow, ())
        }
        async fn handle_continue(&mut self, _: ()) -> NoReply<Self> {
            LOG.with(|l| l.push("continue"));
            NoReply::NoReply
        }
        async fn handle_cast(&mut self, m: &'static str) -> NoReply<Self> {
            LOG.with(|l| l.push(m));
            NoReply::NoReply
        }
    }
    std::thread_local! { static LOG: Log = Log::new(); }
    let starter = tokio::spawn({
        let log = log.clone();
        async move {
            gen_server::start_link_with::<Slow>(log, StartOptions::new().name(name))
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    gen_server::cast::<Slow>(name, "cast sent during init");
    let server = starter.await.unwrap();
    settle().await;
    assert_eq!(log.entries(), ["init"]);
    assert_eq!(
        LOG.with(|l| l.entries()),
        ["continue", "cast sent during init"],
        "handle_continue ran before the message already in the mailbox"
    );
    server.stop(ExitReason::Normal).await.unwrap();
}

#[tokio::test]
async fn core_04_continue_chains_and_callbacks_can_continue() {
    struct Chain(Log);
    impl GenServer for Chain {
        type Args = Log;
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Info = Never;
        type Continue = u8;
        async fn init(log: Log) -> Init<Self> {
            Init::Continue(Chain(log), 1)
        }
        async fn handle_continue(&mut self, step: u8) -> NoReply<Self> {
            self.0.push(format!("continue {step}"));
            if step < 3 {
                NoReply::Continue(step + 1)
            } else {
                NoReply::NoReply
            }
        }
        async fn handle_call(&mut self, _: (), _: ReplyTo<()>) -> Reply<Self> {
            Reply::ReplyContinue((), 10)
        }
        async fn handle_cast(&mut self, _: ()) -> NoReply<Self> {
            NoReply::Continue(20)
        }
    }
    let log = Log::new();
    let server = gen_server::start_link::<Chain>(log.clone()).await.unwrap();
    server.call(()).await.unwrap();
    server.cast(());
    server.call(()).await.unwrap();
    assert_eq!(
        log.entries(),
        [
            "continue 1",
            "continue 2",
            "continue 3",
            "continue 10",
            "continue 20",
            "continue 10"
        ]
    );
}

#[tokio::test]
async fn core_06_init_ignore_starts_nothing_and_frees_the_name() {
    let log = Log::new();
    let result = gen_server::start_link_with::<Probe>(
        Args::new("a", &log).on_init(OnInit::Ignore),
        StartOptions::new().name("core_06_ignored"),
    )
    .await;
    assert_eq!(result.unwrap_err(), StartError::Ignore);
    assert_eq!(whereis(&Name::local("core_06_ignored")), None);
    assert_eq!(alive_tasks(), 0);
}

#[tokio::test]
async fn core_07_init_stop_or_panic_is_an_error() {
    let log = Log::new();
    let stopped =
        start(Args::new("a", &log).on_init(OnInit::Stop(ExitReason::error("no db")))).await;
    assert_eq!(
        stopped.unwrap_err(),
        StartError::Init(ExitReason::error("no db"))
    );

    let panicked = gen_server::start_link_with::<Probe>(
        Args::new("b", &log).on_init(OnInit::Panic),
        StartOptions::new().name("core_07_panicked"),
    )
    .await;
    assert_eq!(
        panicked.unwrap_err(),
        StartError::Init(ExitReason::Panic("init of b panicked".into()))
    );
    assert_eq!(
        whereis(&Name::local("core_07_panicked")),
        None,
        "name freed"
    );
    assert_eq!(alive_tasks(), 0, "no task was left behind");
}

#[tokio::test]
async fn core_08_handle_call_results() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();

    // {:reply, r, s}
    assert_eq!(server.call(Call::Ping).await.unwrap(), "pong a");

    // {:noreply, s} + GenServer.reply/2 later
    let held = tokio::spawn({
        let server = server.clone();
        async move { server.call(Call::Hold).await }
    });
    settle().await;
    assert!(!held.is_finished());
    assert_eq!(
        server.call(Call::Release("later".into())).await.unwrap(),
        "released"
    );
    assert_eq!(held.await.unwrap().unwrap(), "later");

    // {:stop, reason, reply, s}: the reply comes after terminate.
    let reply = server
        .call(Call::StopReply(ExitReason::Normal))
        .await
        .unwrap();
    assert_eq!(reply, "bye a");
    assert_eq!(log.entries().last().unwrap(), "terminate a normal");

    // {:stop, reason, s}: the caller gets the exit reason.
    let server = start(Args::new("b", &log)).await.unwrap();
    let failed = server.call(Call::Stop(ExitReason::Normal)).await;
    assert_eq!(failed.unwrap_err(), CallError::Exited(ExitReason::Normal));
    assert_eq!(log.entries().last().unwrap(), "terminate b normal");
}

#[tokio::test(start_paused = true)]
async fn core_09_call_times_out_after_5_s_and_late_replies_are_dropped() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();
    let t0 = Instant::now();
    assert_eq!(
        server.call(Call::Hold).await.unwrap_err(),
        CallError::Timeout
    );
    assert_eq!(
        t0.elapsed(),
        Duration::from_millis(5000),
        "the default time-out is 5000 ms"
    );

    // The held call is answered now, too late; the next call must get its own reply.
    assert_eq!(
        server.call(Call::Release("late".into())).await.unwrap(),
        "released"
    );
    assert_eq!(server.call(Call::Ping).await.unwrap(), "pong a");

    let t1 = Instant::now();
    let short = server.call_timeout(
        Call::Sleep(Duration::from_secs(1)),
        Duration::from_millis(100),
    );
    assert_eq!(short.await.unwrap_err(), CallError::Timeout);
    assert_eq!(t1.elapsed(), Duration::from_millis(100));
    // The sleeping call finishes; its reply goes nowhere; the next call is answered correctly.
    assert_eq!(server.call(Call::Ping).await.unwrap(), "pong a");
    assert_eq!(
        server
            .call_timeout(Call::Ping, gen_server::Timeout::Infinity)
            .await
            .unwrap(),
        "pong a"
    );
}

#[tokio::test]
async fn core_10_calls_to_missing_or_dying_servers_fail_with_a_reason() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();
    server.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(
        server.call(Call::Ping).await.unwrap_err(),
        CallError::NoProc
    );
    assert_eq!(
        gen_server::call::<Probe>("core_10_nobody", Call::Ping)
            .await
            .unwrap_err(),
        CallError::NoProc
    );

    let server = start(Args::new("b", &log)).await.unwrap();
    let failed = server.call(Call::Panic).await.unwrap_err();
    assert_eq!(
        failed,
        CallError::Exited(ExitReason::Panic("b panicked in a call".into()))
    );
    assert!(!server.is_alive());

    // A call waiting in the mailbox when the server dies gets the same reason.
    let server = start(Args::new("c", &log)).await.unwrap();
    let slow = tokio::spawn({
        let server = server.clone();
        async move { server.call(Call::Sleep(Duration::from_millis(20))).await }
    });
    let queued = tokio::spawn({
        let server = server.clone();
        async move {
            tokio::task::yield_now().await;
            server.call(Call::Ping).await
        }
    });
    settle().await;
    server.cast(Cast::Crash);
    assert_eq!(slow.await.unwrap().unwrap(), "slept");
    let reason = queued.await.unwrap();
    // Depending on interleaving the ping was answered before the crash or failed with it.
    if let Err(error) = reason {
        assert_eq!(error, CallError::Exited(ExitReason::error("c crashed")));
    }
}

#[tokio::test]
async fn core_11_cast_never_fails() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();
    server.stop(ExitReason::Normal).await.unwrap();
    server.cast(Cast::Record("lost".into()));
    server.send("lost".into());
    gen_server::cast::<Probe>("core_11_nobody", Cast::Record("lost".into()));
    gen_server::send::<Probe>("core_11_nobody", "lost".into());
    assert!(!log.entries().iter().any(|e| e.contains("lost")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_13_messages_from_one_sender_are_handled_in_order_one_at_a_time() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    struct Ordered {
        seen: Vec<u32>,
        busy: Arc<AtomicBool>,
    }
    impl GenServer for Ordered {
        type Args = Arc<AtomicBool>;
        type Call = ();
        type Reply = Vec<u32>;
        type Cast = u32;
        type Info = u32;
        type Continue = Never;
        async fn init(busy: Arc<AtomicBool>) -> Init<Self> {
            Init::Ok(Ordered {
                seen: Vec::new(),
                busy,
            })
        }
        async fn handle_cast(&mut self, n: u32) -> NoReply<Self> {
            assert!(
                !self.busy.swap(true, Ordering::SeqCst),
                "two messages at once"
            );
            tokio::task::yield_now().await;
            self.seen.push(n);
            self.busy.store(false, Ordering::SeqCst);
            NoReply::NoReply
        }
        async fn handle_info(&mut self, n: u32) -> NoReply<Self> {
            self.handle_cast(n).await
        }
        async fn handle_call(&mut self, _: (), _: ReplyTo<Vec<u32>>) -> Reply<Self> {
            Reply::Reply(std::mem::take(&mut self.seen))
        }
    }
    let server = gen_server::start_link::<Ordered>(Arc::default())
        .await
        .unwrap();
    let other = tokio::spawn({
        let server = server.clone();
        async move {
            for n in 10_000..11_000 {
                server.send(n);
            }
        }
    });
    for n in 0..1000 {
        server.cast(n);
    }
    other.await.unwrap();
    let seen = server.call(()).await.unwrap();
    let mine: Vec<u32> = seen.iter().copied().filter(|n| *n < 10_000).collect();
    let theirs: Vec<u32> = seen.iter().copied().filter(|n| *n >= 10_000).collect();
    assert_eq!(mine, (0..1000).collect::<Vec<_>>());
    assert_eq!(theirs, (10_000..11_000).collect::<Vec<_>>());
}

#[tokio::test]
async fn core_14_stop_runs_terminate_then_exits_with_the_reason() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();
    server.cast(Cast::Stop(ExitReason::shutdown_with("done")));
    // A call queued behind the stop learns why the server went away; a later one finds nobody.
    let queued = server.call(Call::Ping).await;
    assert_eq!(
        queued,
        Err(CallError::Exited(ExitReason::shutdown_with("done")))
    );
    assert_eq!(server.call(Call::Ping).await, Err(CallError::NoProc));
    assert_eq!(
        log.entries(),
        ["init a", "terminate a {shutdown, \"done\"}"]
    );
}

#[tokio::test]
async fn core_15_a_panic_runs_terminate_with_the_panic_as_reason() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();
    let _ = server.call(Call::Panic).await;
    assert_eq!(
        log.entries().last().unwrap(),
        "terminate a panic: a panicked in a call"
    );
}

#[tokio::test(start_paused = true)]
async fn core_17_stop_is_synchronous_and_frees_the_name() {
    let log = Log::new();
    let name = "core_17_stop";
    let server = gen_server::start_link_with::<Probe>(
        Args::new("a", &log).terminate_takes(Duration::from_millis(200)),
        StartOptions::new().name(name),
    )
    .await
    .unwrap();
    let t0 = Instant::now();
    gen_server::stop::<Probe>(name, ExitReason::Normal)
        .await
        .unwrap();
    assert_eq!(
        t0.elapsed(),
        Duration::from_millis(200),
        "stop waited for terminate"
    );
    assert_eq!(log.entries().last().unwrap(), "terminate a normal");
    assert_eq!(whereis(&Name::local(name)), None);
    assert_eq!(
        server.stop(ExitReason::Normal).await,
        Err(CallError::NoProc)
    );

    // GenServer.stop with a time-out: the caller gives up, the server still finishes.
    let server = start(Args::new("b", &log).terminate_takes(Duration::from_secs(10)))
        .await
        .unwrap();
    let gave_up = server
        .stop_timeout(ExitReason::Normal, Duration::from_secs(1))
        .await;
    assert_eq!(gave_up, Err(CallError::Timeout));
    tokio::time::sleep(Duration::from_secs(10)).await;
    settle().await;
    assert_eq!(log.entries().last().unwrap(), "terminate b normal");
    assert!(!server.is_alive());
}

#[tokio::test]
async fn core_12_info_messages_reach_handle_info() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();
    server.send("hello".into());
    server.call(Call::Ping).await.unwrap();
    assert_eq!(log.entries(), ["init a", "info hello"]);
}

#[tokio::test]
async fn core_18_clean_and_abnormal_reasons() {
    for (reason, clean) in [
        (ExitReason::Normal, true),
        (ExitReason::Shutdown, true),
        (ExitReason::shutdown_with(1), true),
        (ExitReason::Killed, false),
        (ExitReason::error("x"), false),
        (ExitReason::Panic("x".into()), false),
    ] {
        assert_eq!(reason.is_clean(), clean, "{reason}");
        assert_eq!(Restart::Transient.restarts_after(&reason), !clean);
        assert!(Restart::Permanent.restarts_after(&reason));
        assert!(!Restart::Temporary.restarts_after(&reason));
    }
}

#[tokio::test]
async fn dropping_every_reply_handle_fails_the_call_at_once() {
    struct Forgetful;
    impl GenServer for Forgetful {
        type Args = ();
        type Call = ();
        type Reply = ();
        type Cast = Never;
        type Info = Never;
        type Continue = Never;
        async fn init(_: ()) -> Init<Self> {
            Init::Ok(Forgetful)
        }
        async fn handle_call(&mut self, _: (), _from: ReplyTo<()>) -> Reply<Self> {
            Reply::NoReply
        }
    }
    let server = gen_server::start_link::<Forgetful>(()).await.unwrap();
    assert_eq!(server.call(()).await, Err(CallError::NoReply));
    assert!(server.is_alive());
}

#[tokio::test]
async fn unhandled_calls_and_casts_stop_the_server_with_an_error() {
    struct Bare;
    impl GenServer for Bare {
        type Args = ();
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Info = ();
        type Continue = Never;
        async fn init(_: ()) -> Init<Self> {
            Init::Ok(Bare)
        }
    }
    let server = gen_server::start_link::<Bare>(()).await.unwrap();
    server.send(()); // logged and dropped, as Elixir's default handle_info does
    let error = server.call(()).await.unwrap_err();
    let CallError::Exited(reason) = error else {
        panic!("{error:?}")
    };
    assert!(
        reason
            .to_string()
            .ends_with("Bare received a message but has no handle_call")
    );
}

#[tokio::test]
async fn wrong_type_under_a_name_is_a_typed_error() {
    let log = Log::new();
    gen_server::start_link_with::<Probe>(
        Args::new("a", &log),
        StartOptions::new().name("wrong_type"),
    )
    .await
    .unwrap();
    let error = gen_server::call::<Probe>("wrong_type", Call::Ping).await;
    assert!(error.is_ok());
    struct Other;
    impl GenServer for Other {
        type Args = ();
        type Call = ();
        type Reply = ();
        type Cast = Never;
        type Info = Never;
        type Continue = Never;
        async fn init(_: ()) -> Init<Self> {
            Init::Ok(Other)
        }
    }
    let error = gen_server::call::<Other>("wrong_type", ())
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::WrongType { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("`wrong_type` names a `gen_server::common::Probe`")
    );
    assert!(Server::<Other>::whereis(&Name::local("wrong_type")).is_none());
}

#[tokio::test(start_paused = true)]
async fn core_09_a_call_waiting_behind_a_slow_callback_times_out_5_s_after_it_was_made() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();
    let t0 = Instant::now();
    let slow = tokio::spawn({
        let server = server.clone();
        async move {
            server
                .call_timeout(
                    Call::Sleep(Duration::from_secs(20)),
                    gen_server::Timeout::Infinity,
                )
                .await
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The server is busy: this call arms its time-out at once.
    assert_eq!(server.call(Call::Ping).await, Err(CallError::Timeout));
    assert_eq!(t0.elapsed(), Duration::from_secs(6));
    assert_eq!(slow.await.unwrap().unwrap(), "slept");
    assert_eq!(t0.elapsed(), Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn core_09_a_call_queued_before_the_server_got_busy_still_times_out_on_time() {
    let log = Log::new();
    let server = start(Args::new("a", &log)).await.unwrap();
    let t0 = Instant::now();
    // Both are queued while the server is idle; the first keeps it busy for 20 s.
    let slow = tokio::spawn({
        let server = server.clone();
        async move {
            server
                .call_timeout(
                    Call::Sleep(Duration::from_secs(20)),
                    gen_server::Timeout::Infinity,
                )
                .await
        }
    });
    let queued = tokio::spawn({
        let server = server.clone();
        async move { server.call(Call::Ping).await }
    });
    assert_eq!(queued.await.unwrap(), Err(CallError::Timeout));
    assert_eq!(t0.elapsed(), Duration::from_secs(5));
    slow.await.unwrap().unwrap();
    // The timed-out request was still handled (its reply went nowhere), as in OTP.
    assert_eq!(server.call(Call::Ping).await.unwrap(), "pong a");
}

#[tokio::test(start_paused = true)]
async fn core_09_a_call_made_during_a_slow_init_times_out() {
    let log = Log::new();
    let t0 = Instant::now();
    let starting = tokio::spawn({
        let log = log.clone();
        async move {
            let args = Args::new("a", &log).on_init(OnInit::Sleep(Duration::from_secs(30)));
            gen_server::start_link_with::<Probe>(args, StartOptions::new().name("core_09_init"))
                .await
        }
    });
    settle().await;
    assert_eq!(
        gen_server::call::<Probe>("core_09_init", Call::Ping).await,
        Err(CallError::Timeout)
    );
    assert_eq!(t0.elapsed(), Duration::from_secs(5));
    starting.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_start_cancelled_during_init_leaves_no_task_and_frees_the_name() {
    let log = Log::new();
    let name = "cancelled_start";
    let args = Args::new("a", &log).on_init(OnInit::Sleep(Duration::from_secs(10)));
    let start = gen_server::start_link_with::<Probe>(args, StartOptions::new().name(name));
    assert!(
        tokio::time::timeout(Duration::from_secs(1), start)
            .await
            .is_err()
    );
    settle().await;
    assert_eq!(
        alive_tasks(),
        0,
        "the half-started process was aborted with its starter"
    );
    assert_eq!(whereis(&Name::local(name)), None);
    assert_eq!(log.entries(), ["init a"], "init never finished");
}
