//! The observer on the seed service, with a load that crashes and restarts children.
//!
//! ```sh
//! cargo run -p bough-observer --example observer                    # 200 sessions
//! cargo run -p bough-observer --example observer -- --sessions 100000
//! ```
//!
//! It prints the page's address (`http://127.0.0.1:4040/`; set `OBSERVER_PORT` for
//! another port) and runs until Ctrl-C. Every 2 s the fetcher or a session crashes and
//! is restarted; every 3 s a loader starts, loads the rules for 0.8 s and stops normally.

mod tree;

use std::net::{Ipv4Addr, SocketAddr};

use bough_observer::Observer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sessions = sessions_from_args()?;
    // The crashes are the point; their panic messages would drown the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let service = tree::start(sessions).await?;
    let port = match std::env::var("OBSERVER_PORT") {
        Ok(port) => port.parse()?,
        Err(_) => bough_observer::DEFAULT_ADDR.port(),
    };
    let observer = Observer::new(&service)
        .addr(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .start()
        .await?;
    println!("MyService is running with {sessions} sessions.");
    println!("observer: {}", observer.url());
    println!("Press Ctrl-C to stop.");
    tokio::select! {
        () = tree::load() => {}
        stop = tokio::signal::ctrl_c() => stop?,
    }
    observer.shutdown().await;
    service.stop(bough::ExitReason::Shutdown).await?;
    println!("stopped");
    Ok(())
}

fn sessions_from_args() -> Result<u64, String> {
    let mut args = std::env::args().skip(1);
    let mut sessions = 200;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sessions" => {
                let value = args.next().ok_or("--sessions needs a number")?;
                sessions = value
                    .parse()
                    .map_err(|_| format!("--sessions takes a number, not `{value}`"))?;
            }
            other => return Err(format!("unknown argument `{other}`; try --sessions 1000")),
        }
    }
    Ok(sessions)
}
