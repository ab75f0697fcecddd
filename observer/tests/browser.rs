//! The page in a real browser: headless Chromium, driven through chromedriver, against the
//! example's tree with 100,000 sessions. The page must load, draw the known nodes (the
//! dynamic supervisor of 100,000 collapsed to its count), show a crash within a second of
//! it, and show a process's state on a click. A screenshot is written to
//! `target/tmp/observer.png` for a person to look at.
//!
//! Needs `chromium` and `chromedriver` on the PATH (Debian: `apt-get install chromium
//! chromium-driver`; `.ci/run` installs them). Without them the test says so and passes,
//! except under `CI=true`, where it fails.

#[allow(dead_code)] // the test uses part of the example's tree
#[path = "../examples/observer/tree.rs"]
mod tree;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bough_observer::Observer;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// How soon a crash must be on the page.
const CRASH_SHOWN_WITHIN: Duration = Duration::from_secs(1);

/// The example's sessions: enough that the page must not try to draw them all.
const SESSIONS: u64 = 100_000;

/// The nodes the example's tree always has, as the page labels them.
const KNOWN_NODES: [&str; 7] = [
    "MyService",
    "AuthDataLoaderSup",
    "RulesCache",
    "Sessions",
    "Pipeline",
    "Fetcher",
    "Parser",
];

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Chromium and chromedriver, or `None` (with a word why) where a developer lacks them.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = on_path(&["chromedriver"]);
    match (chromium, driver) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        (chromium, driver) => {
            let missing: Vec<&str> = [
                ("chromium", chromium.is_none()),
                ("chromedriver", driver.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, missing)| missing.then_some(name))
            .collect();
            let message = format!(
                "browser test skipped: {} not found on the PATH (Debian: `apt-get install -y \
                 chromium chromium-driver`)",
                missing.join(" and ")
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{message}; CI must run it (.ci/run installs them)"
            );
            eprintln!("{message}");
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// chromedriver on a free port, killed when dropped (its browser is closed before that).
struct Driver {
    url: String,
    _process: Child,
}

async fn start_driver(driver: &Path) -> Driver {
    let port = free_port();
    let process = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let ready_by = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = match http.get(format!("{url}/status")).send().await {
            Ok(response) => response
                .json::<Value>()
                .await
                .is_ok_and(|status| status["value"]["ready"] == true),
            Err(_) => false,
        };
        if ready {
            break;
        }
        assert!(
            Instant::now() < ready_by,
            "chromedriver not ready within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Driver {
        url,
        _process: process,
    }
}

async fn browser(driver: &Driver, chromium: &Path, profile: &Path) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1400,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!("an object literal")
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("chromium starts under chromedriver")
}

/// Runs `script` until it returns `true`, for at most `within`; how long it took.
async fn wait_for(client: &Client, script: &str, within: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    loop {
        let value = client
            .execute(script, Vec::new())
            .await
            .map_err(|error| format!("script failed: {error}"))?;
        if value == Value::Bool(true) {
            return Ok(start.elapsed());
        }
        if start.elapsed() > within {
            return Err(format!("not true within {within:?}: {script}"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn text_of(client: &Client, script: &str) -> Result<String, String> {
    match client.execute(script, Vec::new()).await {
        Ok(Value::String(text)) => Ok(text),
        Ok(other) => Err(format!("expected text from {script}, got {other}")),
        Err(error) => Err(format!("script failed: {error}")),
    }
}

/// What the page must do, step by step; an `Err` says which step failed.
async fn drive(client: &Client, url: &str, screenshot: &Path) -> Result<(), String> {
    client
        .goto(url)
        .await
        .map_err(|e| format!("open {url}: {e}"))?;
    wait_for(
        client,
        "return document.getElementById('conn').textContent === 'live'",
        Duration::from_secs(10),
    )
    .await?;
    let labels = format!("{:?}", KNOWN_NODES);
    wait_for(
        client,
        &format!(
            "const shown = [...document.querySelectorAll('#tree g.node')].map(g => g.dataset.label);
             return {labels}.every(label => shown.includes(label));"
        ),
        Duration::from_secs(10),
    )
    .await?;
    // 100,000 sessions: one node with its count, not 100,000 nodes.
    let sessions = text_of(
        client,
        "return document.querySelector('#tree g.node[data-label=\"Sessions\"]').textContent",
    )
    .await?;
    if !sessions.contains("100,000 children") {
        return Err(format!("the Sessions node says `{sessions}`"));
    }
    let drawn = client
        .execute(
            "return document.querySelectorAll('#tree g.node').length",
            Vec::new(),
        )
        .await
        .map_err(|e| e.to_string())?;
    if drawn.as_u64().is_none_or(|drawn| drawn > 100) {
        return Err(format!(
            "{drawn} nodes drawn for a tree of 100,000 sessions"
        ));
    }

    // A crash of the fetcher, which the pipeline restarts.
    tree::crash_fetcher();
    let crashed = Instant::now();
    let shown = wait_for(
        client,
        "return [...document.querySelectorAll('#exits li')].some(li =>
             li.textContent.includes('Fetcher') && li.textContent.includes('feed unreachable'))",
        CRASH_SHOWN_WITHIN,
    )
    .await
    .map_err(|error| format!("the crash was not listed: {error}"))?;
    eprintln!(
        "crash listed {:?} after it happened (polled every 10 ms)",
        crashed.elapsed().min(shown + Duration::from_millis(10))
    );
    wait_for(
        client,
        "return document.querySelector('#tree g.node[data-label=\"Fetcher\"]')
             .classList.contains('flash-crash')
          || document.querySelector('#tree g.node[data-label=\"Fetcher\"]')
             .classList.contains('flash-restart')",
        Duration::from_secs(1),
    )
    .await
    .map_err(|error| format!("the fetcher did not flash: {error}"))?;

    // A crashed session flashes in the expanded dynamic supervisor, which shows a sample
    // of its children and pages through all of them.
    client
        .find(Locator::Css(
            "#tree g.node[data-label=\"Sessions\"] g.toggle",
        ))
        .await
        .map_err(|e| format!("find the toggle of Sessions: {e}"))?
        .click()
        .await
        .map_err(|e| format!("expand Sessions: {e}"))?;
    wait_for(
        client,
        "return document.querySelectorAll('#tree g.node[data-label=\"Session\"]').length > 5
            && !!document.querySelector('#tree g.node.more')",
        Duration::from_secs(5),
    )
    .await
    .map_err(|error| format!("Sessions did not expand: {error}"))?;
    tree::crash_a_session(3)
        .await
        .ok_or("no session to crash")?;
    wait_for(
        client,
        "return [...document.querySelectorAll('#exits li')].some(li =>
             li.textContent.includes('Session') && li.textContent.includes('hit a bug'))",
        CRASH_SHOWN_WITHIN,
    )
    .await
    .map_err(|error| format!("the session's crash was not listed: {error}"))?;
    client
        .find(Locator::Css("#tree g.node.more"))
        .await
        .map_err(|e| format!("find the `more` node: {e}"))?
        .click()
        .await
        .map_err(|e| format!("click `more`: {e}"))?;
    wait_for(
        client,
        "const pager = document.querySelector('#children-page .pager');
         return !!pager && pager.textContent.includes('1–50 of 100,000')",
        Duration::from_secs(5),
    )
    .await
    .map_err(|error| format!("no page of the sessions: {error}"))?;

    // A click shows a process's state.
    client
        .find(Locator::Css("#tree g.node[data-label=\"RulesCache\"]"))
        .await
        .map_err(|e| format!("find RulesCache: {e}"))?
        .click()
        .await
        .map_err(|e| format!("click RulesCache: {e}"))?;
    wait_for(
        client,
        "const state = document.getElementById('state');
         return !!state && state.textContent.startsWith('RulesCache {')",
        Duration::from_secs(5),
    )
    .await
    .map_err(|error| format!("no state after a click: {error}"))?;
    let details = text_of(
        client,
        "return document.getElementById('process-info').textContent",
    )
    .await?;
    if !details.contains("rules_cache") {
        return Err(format!("the details lack the name: {details}"));
    }

    // Let the flash fade and the list settle before the picture.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let png = client
        .screenshot()
        .await
        .map_err(|e| format!("screenshot: {e}"))?;
    std::fs::write(screenshot, png).map_err(|e| format!("write {}: {e}", screenshot.display()))?;
    eprintln!("screenshot: {}", screenshot.display());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_draws_the_example_tree_and_shows_a_crash_within_a_second() {
    let Some((chromium, driver_path)) = browser_tools() else {
        return;
    };
    let service = tree::start(SESSIONS)
        .await
        .expect("the example's tree starts");
    let observer = Observer::new(&service).port(0).start().await.unwrap();

    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let profile = scratch.join(format!("chromium-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let screenshot = scratch.join("observer.png");

    let driver = start_driver(&driver_path).await;
    let client = browser(&driver, &chromium, &profile).await;
    let outcome = drive(&client, &observer.url(), &screenshot).await;
    let _ = client.close().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    observer.shutdown().await;
    service
        .stop(bough::ExitReason::Shutdown)
        .await
        .expect("the tree stops");
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
