//! Waiting and ports, one way for every test and program: a condition is
//! polled until it holds or a limit passes, and a timeout names what was
//! awaited and the last thing seen (a bare "timed out" says nothing in CI).

use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::Error;

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(250);

/// A loopback TCP port nobody listens on now (the kernel's choice): the one
/// definition every test crate and program uses. Errors: no port to bind.
pub fn free_port() -> Result<u16, Error> {
    let bound = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr());
    Ok(bound
        .map_err(|e| Error::io("finding a free loopback port", e))?
        .port())
}

/// Whether something listens on loopback `port`.
pub fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// The status code of `GET path` on loopback `port`, `None` when nothing
/// answers HTTP within 2 s. A readiness probe for `/readyz` or `/-/ready`:
/// plain std, so it runs inside an async test without blocking a runtime
/// the way a blocking HTTP client would refuse to.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 16];
    stream.read_exact(&mut head).ok()?;
    // "HTTP/1.x NNN ..."
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
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
    fn http_status_reads_the_status_line_and_none_when_nothing_listens() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 64];
            let n = conn.read(&mut request).unwrap();
            assert!(request[..n].starts_with(b"GET /readyz HTTP/1.0\r\n"));
            conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
                .unwrap();
        });
        assert_eq!(http_status(port, "/readyz"), Some(503));
        server.join().unwrap();
        assert_eq!(http_status(free_port().unwrap(), "/"), None);
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(listening(other.local_addr().unwrap().port()));
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
