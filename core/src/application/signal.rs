//! Waiting for the signal that asks a program to stop.

use std::fmt;

/// The signal that asked the program to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShutdownSignal {
    /// SIGTERM: what an orchestrator (Kubernetes, systemd, Docker) sends first.
    Terminate,
    /// SIGINT: Ctrl-C in a terminal (on Windows, Ctrl-C or Ctrl-Break).
    Interrupt,
}

impl fmt::Display for ShutdownSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShutdownSignal::Terminate => "SIGTERM",
            ShutdownSignal::Interrupt => "SIGINT",
        })
    }
}

/// Waits for SIGTERM or SIGINT. From the first call on, these signals no longer end the
/// program by themselves (tokio's handlers stay installed): the program must stop on its
/// own, as [`Application::stop_on_signal`](super::Application::stop_on_signal) does.
/// Fails only if the handlers cannot be installed.
pub async fn shutdown_signal() -> std::io::Result<ShutdownSignal> {
    #[cfg(all(unix, not(loom)))]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = terminate.recv() => Ok(ShutdownSignal::Terminate),
            _ = interrupt.recv() => Ok(ShutdownSignal::Interrupt),
        }
    }
    #[cfg(all(not(unix), not(loom)))]
    {
        tokio::signal::ctrl_c().await?;
        Ok(ShutdownSignal::Interrupt)
    }
    // tokio leaves its signal handling out of loom builds, whose models send no signals.
    #[cfg(loom)]
    {
        std::future::pending().await
    }
}
