//! A real etcd on loopback for the tests, instance processes to race on it, and a resource
//! that checks fencing tokens.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The `etcd` binary on PATH, if any.
pub fn etcd_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("etcd"))
        .find(|candidate| candidate.is_file())
}

/// Whether the tests must fail, rather than skip, without etcd (`.ci/run` sets it).
pub fn etcd_required() -> bool {
    std::env::var("BOUGH_REQUIRE_ETCD").is_ok_and(|v| v == "1")
}

/// Says that `test` is skipped for want of etcd, or fails it if etcd is required.
pub fn skip(test: &str, what: &str) {
    assert!(
        !etcd_required(),
        "{test}: BOUGH_REQUIRE_ETCD=1 but {what} is missing"
    );
    let message = format!(
        "{test}: skipped, {what} is missing (install etcd-server, or set BOUGH_ETCD_ENDPOINTS)"
    );
    // Past the harness's capture (which takes `io::stderr()` too), so that the skip shows
    // in a plain `cargo test`; captured where /dev/stderr cannot be opened.
    use std::io::Write;
    match std::fs::OpenOptions::new().append(true).open("/dev/stderr") {
        Ok(mut terminal) => {
            let _ = writeln!(terminal, "{message}");
        }
        Err(_) => eprintln!("{message}"),
    }
}

/// An etcd to run a test against: one of the test's own, or the one
/// `BOUGH_ETCD_ENDPOINTS` names (when the test need not stop it).
pub struct Etcd {
    pub endpoint: String,
    process: Option<std::process::Child>,
    data_dir: Option<PathBuf>,
}

impl Etcd {
    /// An etcd of the test's own (which it may stop), or `None` (after saying so) when no
    /// `etcd` binary is on PATH.
    pub fn own(test: &str) -> Option<Etcd> {
        let Some(binary) = etcd_binary() else {
            skip(test, "an `etcd` binary on PATH");
            return None;
        };
        Some(Etcd::start(&binary, test))
    }

    /// The etcd of `BOUGH_ETCD_ENDPOINTS` if set, else one of the test's own.
    pub fn any(test: &str) -> Option<Etcd> {
        if let Ok(endpoints) = std::env::var("BOUGH_ETCD_ENDPOINTS") {
            let endpoint = endpoints.split(',').next().unwrap_or_default().to_string();
            return Some(Etcd {
                endpoint,
                process: None,
                data_dir: None,
            });
        }
        Etcd::own(test)
    }

    fn start(binary: &Path, test: &str) -> Etcd {
        let client = free_port();
        let peer = free_port();
        let data_dir = std::env::temp_dir().join(format!(
            "bough-etcd-{test}-{}-{}",
            std::process::id(),
            client
        ));
        let _ = std::fs::remove_dir_all(&data_dir);
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let process = std::process::Command::new(binary)
            .arg("--name=bough-test")
            .arg(format!("--data-dir={}", data_dir.display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=bough-test={peer_url}"))
            // A single member elects itself sooner with shorter timings; its minimum
            // lease TTL stays at 1 s.
            .arg("--heartbeat-interval=50")
            .arg("--election-timeout=500")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start etcd");
        let etcd = Etcd {
            endpoint: client_url,
            process: Some(process),
            data_dir: Some(data_dir),
        };
        etcd.wait_serving();
        etcd
    }

    /// Waits until etcd answers on its client port and has a leader (bounded, so that a
    /// broken etcd fails the test instead of hanging it).
    fn wait_serving(&self) {
        let url = format!("{}/health", self.endpoint);
        let address: SocketAddr = self
            .endpoint
            .trim_start_matches("http://")
            .parse()
            .expect("loopback address");
        let give_up = Instant::now() + Duration::from_secs(20);
        while Instant::now() < give_up {
            if let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200))
            {
                use std::io::{Read, Write};
                let request = format!("GET /health HTTP/1.0\r\nHost: {address}\r\n\r\n");
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                if stream.write_all(request.as_bytes()).is_ok() {
                    let mut answer = String::new();
                    let _ = stream.read_to_string(&mut answer);
                    if answer.contains("\"health\":\"true\"") {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("etcd did not become healthy at {url}");
    }

    /// Stops the test's own etcd (SIGKILL: as if its machine went away).
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A key prefix no other test (or earlier run against a shared etcd) uses.
pub fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bough-test/{test}/{}-{nanos}", std::process::id())
}

/// An instance of the cluster in a process of its own: this test binary again, running
/// its ignored `node` test, driven by lines on stdin and answering with lines that start
/// with `node:`.
pub struct Node {
    pub instance: String,
    process: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Lines about the node's child (`child ...`), which come whenever they happen, kept
    /// for [`Node::wait_for`] while answers to commands are read.
    events: Vec<String>,
}

/// What a node is told at start.
pub struct NodeConfig<'a> {
    pub endpoint: &'a str,
    pub prefix: &'a str,
    pub instance: &'a str,
    pub ttl_secs: u64,
    pub resource: Option<SocketAddr>,
}

impl Node {
    pub async fn spawn(config: NodeConfig<'_>) -> Node {
        let mut process = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "node",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("BOUGH_ETCD_NODE_ENDPOINT", config.endpoint)
            .env("BOUGH_ETCD_NODE_PREFIX", config.prefix)
            .env("BOUGH_ETCD_NODE_INSTANCE", config.instance)
            .env("BOUGH_ETCD_NODE_TTL", config.ttl_secs.to_string())
            .env(
                "BOUGH_ETCD_NODE_RESOURCE",
                config.resource.map(|a| a.to_string()).unwrap_or_default(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn a node");
        let stdin = process.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(process.stdout.take().expect("piped stdout")).lines();
        let mut node = Node {
            instance: config.instance.to_string(),
            process,
            stdin,
            stdout,
            events: Vec::new(),
        };
        let ready = node.next_line().await;
        assert_eq!(ready, "ready", "{}: {ready}", node.instance);
        node
    }

    pub fn pid(&self) -> i32 {
        self.process
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .expect("a running node")
    }

    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on a pid of our own child, with a valid signal number.
        let sent = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(sent, 0, "signal {signal} to {}", self.instance);
    }

    pub async fn send(&mut self, command: &str) {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("write to a node");
        self.stdin.flush().await.expect("flush to a node");
    }

    /// The node's next `node:` line, without the prefix. Bounded: a node that says
    /// nothing for 30 s has hung.
    pub async fn next_line(&mut self) -> String {
        let read = async {
            loop {
                match self.stdout.next_line().await.expect("read a node") {
                    Some(line) => {
                        // The harness prints `test node ... ` before the first line.
                        if let Some((_, said)) = line.split_once("node: ") {
                            return said.to_string();
                        }
                    }
                    None => panic!("{} ended", self.instance),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap_or_else(|_| panic!("{} said nothing for 30 s", self.instance))
    }

    /// The next line that is not about the node's child.
    pub async fn answer(&mut self) -> String {
        loop {
            let line = self.next_line().await;
            if line.starts_with("child ") {
                self.events.push(line);
            } else {
                return line;
            }
        }
    }

    /// Sends `command` and returns the answer.
    pub async fn ask(&mut self, command: &str) -> String {
        self.send(command).await;
        self.answer().await
    }

    /// Waits for a line that starts with `prefix` (perhaps one seen already while an
    /// answer was read), skipping others.
    pub async fn wait_for(&mut self, prefix: &str) -> String {
        if let Some(at) = self.events.iter().position(|line| line.starts_with(prefix)) {
            return self.events.remove(at);
        }
        loop {
            let line = self.next_line().await;
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    pub async fn wait_exit(&mut self) -> std::process::ExitStatus {
        tokio::time::timeout(Duration::from_secs(30), self.process.wait())
            .await
            .expect("the node exits")
            .expect("wait for a node")
    }
}

/// A resource that must never take writes from two owners at once: it keeps the largest
/// fencing token it has seen and refuses writes with a smaller one. Lines: `write TOKEN`
/// → `ok` or `refused`.
pub struct FencedResource {
    pub address: SocketAddr,
    pub log: Arc<Mutex<Vec<(u64, bool)>>>,
}

impl FencedResource {
    pub async fn start() -> FencedResource {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the resource");
        let address = listener.local_addr().expect("resource address");
        let log: Arc<Mutex<Vec<(u64, bool)>>> = Arc::default();
        let highest = Arc::new(Mutex::new(0u64));
        let writes = log.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let writes = writes.clone();
                let highest = highest.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let Some(token) = line
                            .strip_prefix("write ")
                            .and_then(|t| t.trim().parse::<u64>().ok())
                        else {
                            let _ = write.write_all(b"bad request\n").await;
                            continue;
                        };
                        let accepted = {
                            let mut highest = highest.lock().expect("resource lock");
                            let accepted = token >= *highest;
                            if accepted {
                                *highest = token;
                            }
                            accepted
                        };
                        writes.lock().expect("resource log").push((token, accepted));
                        let answer: &[u8] = if accepted { b"ok\n" } else { b"refused\n" };
                        let _ = write.write_all(answer).await;
                    }
                });
            }
        });
        FencedResource { address, log }
    }

    pub fn writes(&self) -> Vec<(u64, bool)> {
        self.log.lock().expect("resource log").clone()
    }
}

/// Writes `write TOKEN` to the resource at `address` and returns its answer.
pub async fn fenced_write(address: SocketAddr, token: u64) -> String {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("reach the resource");
    let (read, mut write) = stream.into_split();
    write
        .write_all(format!("write {token}\n").as_bytes())
        .await
        .expect("write to the resource");
    let mut lines = BufReader::new(read).lines();
    lines
        .next_line()
        .await
        .expect("read the resource")
        .unwrap_or_default()
}
