//! Waiting and ports, one way for every test and program: a condition is
//! polled until it holds or a limit passes, and a timeout names what was
//! awaited and the last thing seen (a bare "timed out" says nothing in CI).

use std::future::Future;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::Error;

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(250);

/// A loopback TCP port nobody listens on now (the kernel's choice).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Blocks until `probe` returns true, polling every 100 ms; panics naming
/// `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut probe: impl FnMut() -> bool) {
    let start = Instant::now();
    while !probe() {
        assert!(start.elapsed() < limit, "{what}: not after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `probe` every 250 ms until it returns `Ok`, and returns its value;
/// panics after `timeout` naming `what` and the last `Err` it gave.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) if start.elapsed() > timeout => {
                panic!(
                    "{what}: not true after {} s; last: {last}",
                    timeout.as_secs()
                )
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// [`eventually`] for programs, which report rather than panic: polls
/// `probe` every 250 ms until it gives `Ok((true, _))`. An `Err` of the probe
/// ends the wait with that error; after `timeout` the error is
/// [`Error::Timeout`] naming `what` and the probe's last progress text.
pub async fn until<E, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> Result<(), E>
where
    E: From<Error>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(bool, String), E>>,
{
    let start = Instant::now();
    loop {
        let (done, progress) = probe().await?;
        if done {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(Error::Timeout {
                what: what.into(),
                seconds: timeout.as_secs(),
                last: progress,
            }
            .into());
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_can_be_bound() {
        let port = free_port().unwrap();
        assert_ne!(port, 0);
        TcpListener::bind(("127.0.0.1", port)).unwrap();
    }

    #[test]
    #[should_panic(expected = "the impossible: not after")]
    fn wait_until_names_what_it_waited_for() {
        wait_until("the impossible", Duration::from_millis(200), || false);
    }

    #[tokio::test]
    async fn eventually_returns_the_first_ok() {
        let mut tries = 0;
        let value = eventually("the third try", Duration::from_secs(5), || {
            tries += 1;
            let now = tries;
            async move {
                if now < 3 {
                    Err(format!("try {now}"))
                } else {
                    Ok(now)
                }
            }
        })
        .await;
        assert_eq!(value, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "never: not true after 0 s; last: still no")]
    async fn eventually_names_the_last_error() {
        eventually::<(), _, _>("never", Duration::ZERO, || async {
            Err("still no".to_string())
        })
        .await;
    }

    #[tokio::test]
    async fn until_reports_a_timeout_with_the_last_progress() {
        let result: Result<(), Error> = until("ready", Duration::ZERO, || async {
            Ok((false, "2 of 3".to_string()))
        })
        .await;
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("ready") && message.contains("2 of 3"),
            "{message}"
        );
    }
}
