//! The observer's HTTP API, over loopback: the page and its assets, the tree, pages of
//! children, a process's status, the host check, and the event stream.

use std::time::Duration;

use bough_core::introspect::StateFormat;
use bough_core::prelude::*;
use bough_observer::{Observer, Running};
use reqwest::StatusCode;
use serde_json::Value;

/// A worker that shows its state and fails on request.
#[derive(Debug)]
struct Worker {
    #[allow(dead_code)] // shown through `Debug`
    label: &'static str,
}

impl GenServer for Worker {
    type Args = &'static str;
    type Call = Never;
    type Reply = Never;
    type Cast = &'static str;
    type Info = Never;
    type Continue = Never;
    const STATE: StateFormat<Self> = StateFormat::debug();

    async fn init(label: &'static str) -> Init<Self> {
        Init::Ok(Worker { label })
    }

    async fn handle_cast(&mut self, why: &'static str) -> NoReply<Self> {
        NoReply::Stop(ExitReason::error(why))
    }
}

/// A worker that keeps its state to itself.
struct Quiet;

impl GenServer for Quiet {
    type Args = ();
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Quiet)
    }
}

struct Tree {
    root: Supervisor,
    jobs: DynamicSupervisor,
    observer: Running,
    base: String,
    http: reqwest::Client,
}

/// `root` (one_for_one) with a worker `cache` and a dynamic supervisor `jobs` of `jobs`
/// quiet children, observed on a free port.
async fn tree(prefix: &'static str, jobs: usize) -> Tree {
    let jobs_name = Name::local(format!("{prefix}_jobs"));
    let root = Supervisor::start_link(
        [
            ChildSpec::worker::<Worker>("cache")
                .id("cache")
                .name(Name::local(format!("{prefix}_cache"))),
            DynamicSupervisor::child_spec(DynamicSupervisorOptions::new().name(jobs_name.clone()))
                .id("jobs"),
        ],
        SupervisorOptions::new(Strategy::OneForOne).max_restarts(100),
    )
    .await
    .unwrap();
    let jobs_sup = DynamicSupervisor::whereis(&jobs_name).unwrap();
    for _ in 0..jobs {
        jobs_sup
            .start_child(ChildSpec::worker::<Quiet>(()))
            .await
            .unwrap();
    }
    let observer = Observer::new(&root)
        .port(0)
        .max_children(10)
        .start()
        .await
        .unwrap();
    Tree {
        base: format!("http://{}", observer.local_addr()),
        root,
        jobs: jobs_sup,
        observer,
        http: reqwest::Client::new(),
    }
}

impl Tree {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn stop(self) {
        self.observer.shutdown().await;
        self.root.stop(ExitReason::Shutdown).await.unwrap();
    }
}

/// A pid's number as the API writes it: a string, which JavaScript reads exactly.
fn raw(pid: &Value) -> u64 {
    pid["raw"]
        .as_str()
        .expect("a pid's raw is a string")
        .parse()
        .unwrap()
}

fn ids(node: &Value) -> Vec<&str> {
    node["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|child| child["child"]["id"].as_str().unwrap_or("-"))
        .collect()
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_from_the_binary() {
    let tree = tree("api_assets", 0).await;
    for (path, kind, needle) in [
        ("/", "text/html", "<svg id=\"tree\""),
        (
            "/observer.js",
            "text/javascript",
            "new EventSource(\"/api/events\")",
        ),
        ("/observer.css", "text/css", ".node.flash-crash"),
    ] {
        let response = tree
            .http
            .get(format!("{}{path}", tree.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        let body = response.text().await.unwrap();
        assert!(body.contains(needle), "{path} lacks {needle}");
        // Self-contained: nothing is fetched from elsewhere.
        for remote in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "fetch(\"http",
            "fetch(`http",
        ] {
            assert!(!body.contains(remote), "{path} loads {remote}");
        }
    }
    tree.stop().await;
}

#[tokio::test]
async fn the_tree_has_every_node_and_counts_what_it_leaves_out() {
    let tree = tree("api_tree", 25).await;
    let (status, body) = tree.get("/api/tree").await;
    assert_eq!(status, StatusCode::OK);
    let root = &body["root"];
    assert_eq!(root["pid"]["raw"], tree.root.pid().as_raw().to_string());
    assert_eq!(root["pid"]["text"], tree.root.pid().to_string());
    assert_eq!(root["info"]["kind"], "supervisor");
    assert_eq!(root["supervisor"]["strategy"], "one_for_one");
    assert_eq!(root["supervisor"]["max_restarts"], 100);
    assert_eq!(ids(root), ["cache", "jobs"]);
    assert!(body["process_count"].as_u64().unwrap() >= 28);

    let cache = &root["children"][0];
    assert_eq!(cache["info"]["name"], "api_tree_cache");
    assert_eq!(cache["info"]["kind"], "gen_server");
    assert_eq!(cache["child"]["restart"], "permanent");
    assert_eq!(cache["child"]["shutdown"], "5000 ms");
    assert_eq!(cache["child"]["restarts"], 0);
    assert!(
        cache["info"]["type"].as_str().unwrap().ends_with("Worker"),
        "{cache}"
    );

    let jobs = &root["children"][1];
    assert_eq!(jobs["info"]["kind"], "dynamic_supervisor");
    assert_eq!(jobs["supervisor"]["dynamic"], true);
    assert_eq!(jobs["supervisor"]["count"]["active"], 25);
    assert_eq!(
        jobs["children"].as_array().unwrap().len(),
        10,
        "max_children"
    );
    assert_eq!(jobs["omitted"], 15);

    let (_, more) = tree.get("/api/tree?max_children=100").await;
    assert_eq!(
        more["root"]["children"][1]["children"]
            .as_array()
            .unwrap()
            .len(),
        25
    );
    assert_eq!(more["root"]["children"][1]["omitted"], 0);
    tree.stop().await;
}

#[tokio::test]
async fn children_page_through_a_dynamic_supervisor() {
    let tree = tree("api_pages", 120).await;
    let jobs = tree.jobs.pid().as_raw().to_string();
    let mut seen = Vec::new();
    for offset in [0, 50, 100] {
        let (status, page) = tree
            .get(&format!("/api/children/{jobs}?offset={offset}&limit=50"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["total"], 120);
        assert_eq!(page["offset"], offset);
        assert_eq!(page["supervisor"]["dynamic"], true);
        for child in page["children"].as_array().unwrap() {
            assert_eq!(child["child"]["state"], "running");
            assert_eq!(child["info"]["parent"]["raw"], jobs);
            seen.push(raw(&child["pid"]));
        }
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 120, "the pages cover every child once");

    // The pid in its printed form works too.
    let printed = tree
        .jobs
        .pid()
        .to_string()
        .replace('#', "%23")
        .replace('<', "%3C")
        .replace('>', "%3E");
    let (status, page) = tree.get(&format!("/api/children/{printed}?limit=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["children"].as_array().unwrap().len(), 1);
    tree.stop().await;
}

#[tokio::test]
async fn bad_pids_dead_pids_and_workers_get_clear_errors() {
    let tree = tree("api_errors", 1).await;
    let (status, body) = tree.get("/api/process/forty-two").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("not a pid"),
        "{body}"
    );
    let (status, body) = tree.get(&format!("/api/process/{}", u64::MAX)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("noproc"), "{body}");

    let cache = whereis(&Name::local("api_errors_cache")).unwrap().as_raw();
    let (status, body) = tree.get(&format!("/api/children/{cache}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a `Supervisor or DynamicSupervisor`"),
        "{body}"
    );
    tree.stop().await;
}

#[tokio::test]
async fn a_process_shows_its_info_its_place_and_its_state_if_it_opts_in() {
    let tree = tree("api_process", 1).await;
    let cache = whereis(&Name::local("api_process_cache")).unwrap();
    let (status, body) = tree.get(&format!("/api/process/{}", cache.as_raw())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["info"]["name"], "api_process_cache");
    assert_eq!(
        body["info"]["parent"]["raw"],
        tree.root.pid().as_raw().to_string()
    );
    assert_eq!(body["info"]["message_queue_len"], 0);
    assert_eq!(body["child"]["id"], "cache");
    assert_eq!(body["state"], "Worker {\n    label: \"cache\",\n}");
    assert_eq!(body["state_error"], Value::Null);

    let quiet = tree.jobs.which_children().await.unwrap()[0]
        .pid
        .pid()
        .unwrap();
    let (_, body) = tree.get(&format!("/api/process/{}", quiet.as_raw())).await;
    assert_eq!(body["state"], Value::Null);
    assert!(
        body["state_error"]
            .as_str()
            .unwrap()
            .contains("StateFormat::debug()"),
        "{body}"
    );

    let (_, body) = tree
        .get(&format!("/api/process/{}", tree.jobs.pid().as_raw()))
        .await;
    assert_eq!(body["supervisor"]["count"]["active"], 1);
    assert_eq!(body["child"]["child_type"], "supervisor");
    tree.stop().await;
}

#[tokio::test]
async fn requests_for_other_host_names_are_refused() {
    let tree = tree("api_host", 0).await;
    for host in ["evil.example", "evil.example:80", "10.1.2.3"] {
        let response = tree
            .http
            .get(format!("{}/api/tree", tree.base))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{host}");
    }
    let port = tree.observer.local_addr().port();
    let response = tree
        .http
        .get(format!("{}/api/tree", tree.base))
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    tree.stop().await;
}

/// Reads server-sent events until one of kind `event` whose data satisfies `wanted`.
async fn next_event(
    stream: &mut reqwest::Response,
    buffer: &mut String,
    event: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            let mut kind = "message";
            let mut data = String::new();
            for line in message.lines() {
                if let Some(rest) = line.strip_prefix("event: ") {
                    kind = rest;
                } else if let Some(rest) = line.strip_prefix("data: ") {
                    data.push_str(rest);
                }
            }
            if kind == event {
                let value: Value = serde_json::from_str(&data).unwrap();
                if wanted(&value) {
                    return value;
                }
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream goes on");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_sends_the_tree_then_crashes_and_restarts_as_they_happen() {
    let tree = tree("api_events", 2).await;
    let mut stream = tree
        .http
        .get(format!("{}/api/events", tree.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut buffer = String::new();
    let first = next_event(&mut stream, &mut buffer, "tree", |_| true).await;
    assert_eq!(ids(&first["root"]), ["cache", "jobs"]);
    let old = raw(&first["root"]["children"][0]["pid"]);

    gen_server::cast::<Worker>(Name::local("api_events_cache"), "disk on fire");
    let sup = tree.root.pid().as_raw().to_string();
    let crash = next_event(&mut stream, &mut buffer, "tree_event", |event| {
        event["supervisor"]["raw"] == sup
    })
    .await;
    assert_eq!(crash["kind"], "exited");
    assert_eq!(crash["child_id"], "cache");
    assert_eq!(raw(&crash["pid"]), old);
    assert_eq!(crash["reason"], "disk on fire");
    assert_eq!(crash["restarting"], true);
    assert_eq!(crash["abnormal"], true);
    let restart = next_event(&mut stream, &mut buffer, "tree_event", |event| {
        event["supervisor"]["raw"] == sup
    })
    .await;
    assert_eq!(restart["kind"], "restarted");
    let new = raw(&restart["pid"]);
    assert_ne!(new, old);

    // The tree follows: the restarted child, with its new pid and its count.
    let after = next_event(&mut stream, &mut buffer, "tree", |tree| {
        raw(&tree["root"]["children"][0]["pid"]) == new
    })
    .await;
    assert_eq!(after["root"]["children"][0]["child"]["restarts"], 1);

    // Stopping the observer ends the stream.
    tree.observer.shutdown().await;
    let rest = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the stream ended with the observer");
    tree.root.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn a_root_by_name_is_followed_and_a_missing_one_is_reported() {
    let name = "api_named_root";
    let observer = Observer::new(name).port(0).start().await.unwrap();
    let base = format!("http://{}", observer.local_addr());
    let http = reqwest::Client::new();
    let response = http.get(format!("{base}/api/tree")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "no such root yet");
    let sup = Supervisor::start_link([], SupervisorOptions::new(Strategy::OneForOne).name(name))
        .await
        .unwrap();
    let body: Value = http
        .get(format!("{base}/api/tree"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["root"]["pid"]["raw"], sup.pid().as_raw().to_string());
    assert_eq!(body["root"]["info"]["name"], name);
    drop(observer);
    sup.stop(ExitReason::Shutdown).await.unwrap();
}
