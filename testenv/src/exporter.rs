//! A metrics page on loopback, for a Prometheus under test to scrape: the
//! benchmarks' synthetic stores, the objectives the operator would serve.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::Error;

/// What an [`Exporter`] serves: the page at this many seconds since it started.
pub type Page = Box<dyn Fn(f64) -> String + Send + 'static>;

/// An HTTP server on loopback (a thread) answering every request with the
/// page of its [`Page`] function, in Prometheus' text format; stopped when
/// dropped.
pub struct Exporter {
    /// Its port on 127.0.0.1.
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Exporter {
    /// Serves `page`, its clock starting now. Errors: no loopback port, or
    /// no thread.
    pub fn start(page: Page) -> Result<Exporter, Error> {
        let io = |what: &'static str| move |e| Error::io(what, e);
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(io("binding an exporter's port"))?;
        let port = listener
            .local_addr()
            .map_err(io("reading an exporter's port"))?
            .port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let start = Instant::now();
        let thread = std::thread::Builder::new()
            .name("exporter".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        // A scrape that fails is Prometheus' `up == 0`, seen in the results.
                        let _ = serve(conn, &page(start.elapsed().as_secs_f64()));
                    }
                }
            })
            .map_err(io("starting an exporter's thread"))?;
        Ok(Exporter {
            port,
            stop,
            thread: Some(thread),
        })
    }

    /// `127.0.0.1:<port>`, a scrape target.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop up to see the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request (whatever its path) with `body`.
fn serve(mut conn: TcpStream, body: &str) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    conn.write_all(body.as_bytes())?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_gets_the_page() {
        let exporter = Exporter::start(Box::new(|_| "up 1\n".to_string())).unwrap();
        let mut conn = TcpStream::connect(("127.0.0.1", exporter.port)).unwrap();
        conn.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 200 OK") && text.ends_with("\r\n\r\nup 1\n"),
            "{text}"
        );
    }
}
