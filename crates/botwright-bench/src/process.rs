//! Bot processes under test: started with `PORT` set (pinned to a core with `taskset` when
//! asked), awaited until they listen, measured from `/proc`, and stopped.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::process::{Child, Command};

/// Failures of a bot process.
#[derive(Debug, Error)]
pub enum ProcessError {
    /// The command could not be started.
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// The process exited before it listened.
    #[error("`{command}` exited ({status}) before listening on port {port}")]
    Exited {
        /// The command.
        command: String,
        /// Its exit status.
        status: String,
        /// The port it was given.
        port: u16,
    },
    /// The process did not listen in time.
    #[error("`{command}` did not listen on port {port} within {secs} s")]
    NotListening {
        /// The command.
        command: String,
        /// The port it was given.
        port: u16,
        /// How long we waited.
        secs: u64,
    },
    /// A free port could not be found.
    #[error("cannot find a free port: {0}")]
    Port(std::io::Error),
}

/// CPU seconds (user + system) and peak resident memory of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// User + system CPU seconds.
    pub cpu_seconds: f64,
    /// Peak resident set size (`VmHWM`), in KiB.
    pub peak_rss_kib: u64,
}

/// The clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 if unknown).
pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// CPU seconds and peak memory of process `pid` (`self` for this one), if it is readable.
pub fn usage(pid: &str, ticks: f64) -> Option<Usage> {
    let dir = Path::new("/proc").join(pid);
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    let cpu_seconds = cpu_from_stat(&stat)? / ticks;
    let status = std::fs::read_to_string(dir.join("status")).ok()?;
    let peak_rss_kib = vm_hwm(&status).unwrap_or(0);
    Some(Usage { cpu_seconds, peak_rss_kib })
}

/// utime + stime, in ticks, from the text of `/proc/<pid>/stat`.
pub fn cpu_from_stat(stat: &str) -> Option<f64> {
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `VmHWM` in KiB from the text of `/proc/<pid>/status`.
pub fn vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A free loopback port (bound, then released).
pub fn free_port() -> Result<u16, ProcessError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(ProcessError::Port)?;
    Ok(listener.local_addr().map_err(ProcessError::Port)?.port())
}

/// A bot process started by the harness.
#[derive(Debug)]
pub struct BotProcess {
    child: Child,
    pid: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
    command: String,
}

impl BotProcess {
    /// Starts `command` (a shell command line; `{port}` and `{tmp}` are replaced by the port and
    /// a fresh scratch directory) with `PORT` set, pinned to `core` if given. Its output goes to
    /// `log` if given, else is discarded.
    pub async fn start(
        command: &str,
        core: Option<usize>,
        tmp: &Path,
        log: Option<&Path>,
    ) -> Result<BotProcess, ProcessError> {
        let mut process = BotProcess::spawn(command, core, tmp, log)?;
        process.wait_listening(Duration::from_secs(60)).await?;
        Ok(process)
    }

    /// Starts `command` like [`BotProcess::start`], without waiting for it to listen (for a
    /// command that does its work and exits, such as a bulk send).
    pub fn spawn(
        command: &str,
        core: Option<usize>,
        tmp: &Path,
        log: Option<&Path>,
    ) -> Result<BotProcess, ProcessError> {
        let port = free_port()?;
        let line = command.replace("{port}", &port.to_string()).replace("{tmp}", &tmp.display().to_string());
        let line = match core {
            Some(core) => format!("exec taskset -c {core} {line}"),
            None => format!("exec {line}"),
        };
        let (stdout, stderr) = match log.and_then(|p| std::fs::File::create(p).ok()) {
            Some(file) => match file.try_clone() {
                Ok(copy) => (Stdio::from(file), Stdio::from(copy)),
                Err(_) => (Stdio::null(), Stdio::null()),
            },
            None => (Stdio::null(), Stdio::null()),
        };
        let child = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| ProcessError::Spawn { command: line.clone(), source })?;
        let pid = child.id().map(|p| p.to_string()).unwrap_or_default();
        Ok(BotProcess { child, pid, port, command: line })
    }

    /// Waits for the process to exit (at most `within`), reading its usage into `usage` every
    /// 20 ms (CPU from the last reading, the highest peak memory of all, so that what was read
    /// before it exits is kept); returns whether it exited successfully (`None`: still running).
    pub async fn wait_exit(&mut self, within: Duration, ticks: f64, usage: &mut Option<Usage>) -> Option<bool> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.success());
            }
            if let Some(now) = self.usage(ticks) {
                // An exited process not yet reaped (a zombie) has no memory figures left.
                let peak = usage.map_or(0, |u| u.peak_rss_kib).max(now.peak_rss_kib);
                *usage = Some(Usage { cpu_seconds: now.cpu_seconds, peak_rss_kib: peak });
            }
            if started.elapsed() > within {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn wait_listening(&mut self, within: Duration) -> Result<(), ProcessError> {
        let started = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(ProcessError::Exited {
                    command: self.command.clone(),
                    status: status.to_string(),
                    port: self.port,
                });
            }
            if started.elapsed() > within {
                return Err(ProcessError::NotListening {
                    command: self.command.clone(),
                    port: self.port,
                    secs: within.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its CPU seconds and peak memory so far.
    pub fn usage(&self, ticks: f64) -> Option<Usage> {
        usage(&self.pid, ticks)
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops it: SIGTERM, then SIGKILL after 5 s.
    pub async fn stop(mut self) {
        if !self.pid.is_empty() {
            let _ = Command::new("kill").arg("-TERM").arg(&self.pid).status().await;
            if tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await.is_ok() {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

/// The core to pin bots to, and the one for the generator, on a machine with exactly two cores
/// (on larger machines nothing is pinned).
pub fn cores() -> Option<(usize, usize)> {
    let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (n == 2).then_some((0, 1))
}

/// Pins this process (before any other thread starts) to `core` with `taskset`.
pub fn pin_self(core: usize) -> bool {
    std::process::Command::new("taskset")
        .args(["-a", "-c", "-p", &core.to_string(), &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_ticks_and_peak_memory() {
        let stat = "1234 (my (odd) bot) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0 100 1000 200";
        assert_eq!(cpu_from_stat(stat), Some(300.0));
        assert_eq!(vm_hwm("Name:\tbot\nVmPeak:\t 9000 kB\nVmHWM:\t   12345 kB\n"), Some(12345));
        let own = usage("self", clock_ticks()).expect("this process's /proc entry");
        assert!(own.peak_rss_kib > 0);
    }
}
