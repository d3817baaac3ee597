//! Bounded, non-blocking export of spans and log records.
//!
//! ```text
//! request thread --push--> [queue, 2048] --(full batch or tick)--> worker task --batch--> OTLP exporter
//!              full? drop + count                                              failed/timed out? count
//! ```
//!
//! The SDK's batch processors also drop on a full queue but do not say how
//! many; this one counts every lost record in `app_telemetry_dropped_total`,
//! so a dashboard shows what telemetry cost nothing to lose.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use std::sync::Mutex;

use tokio::sync::{Notify, mpsc};

use super::metrics::{DroppedCounters, Signal};

const QUEUE_CAPACITY: usize = 2048;
const MAX_BATCH: usize = 512;
const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// Something that ships a batch somewhere.
pub trait BatchExport<T>: Send + 'static {
    fn export(&mut self, batch: Vec<T>) -> impl Future<Output = OTelSdkResult> + Send;
    fn shutdown(&mut self);
}

/// Spans to an OTLP span exporter.
pub struct Spans<E>(pub E);

impl<E: SpanExporter + 'static> BatchExport<SpanData> for Spans<E> {
    fn export(&mut self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.export(batch)
    }
    fn shutdown(&mut self) {
        let _ = self.0.shutdown();
    }
}

/// Log records to an OTLP log exporter.
pub struct Logs<E>(pub E);

type LogItem = (SdkLogRecord, InstrumentationScope);

impl<E: LogExporter + 'static> BatchExport<LogItem> for Logs<E> {
    async fn export(&mut self, batch: Vec<LogItem>) -> OTelSdkResult {
        let refs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
            batch.iter().map(|(r, s)| (r, s)).collect();
        self.0.export(LogBatch::new(&refs)).await
    }
    fn shutdown(&mut self) {
        let _ = self.0.shutdown();
    }
}

enum Control {
    Flush(std::sync::mpsc::Sender<()>),
    Shutdown(std::sync::mpsc::Sender<()>),
}

/// The bounded buffer between request threads and the worker. A full batch
/// wakes the worker; otherwise it sleeps until its tick, so a span costs a
/// short lock and a push, never a task wake-up.
#[derive(Debug)]
struct Queue<T> {
    items: Mutex<Vec<T>>,
    full_batch: Notify,
}

/// The producer side: the bounded queue and a control channel to the worker.
#[derive(Debug)]
pub struct BoundedProcessor<T> {
    queue: Arc<Queue<T>>,
    control: mpsc::UnboundedSender<Control>,
    dropped: Arc<DroppedCounters>,
    signal: Signal,
    /// Deadline of one export, from `OTEL_EXPORTER_OTLP_*TIMEOUT`.
    timeout: Duration,
}

impl<T: Send + 'static> BoundedProcessor<T> {
    /// Spawns the export worker on the current Tokio runtime; an export that
    /// takes longer than `timeout` is abandoned and its records counted lost.
    pub fn spawn(
        exporter: impl BatchExport<T>,
        dropped: Arc<DroppedCounters>,
        signal: Signal,
        timeout: Duration,
    ) -> Self {
        let queue = Arc::new(Queue {
            items: Mutex::new(Vec::with_capacity(QUEUE_CAPACITY)),
            full_batch: Notify::new(),
        });
        let (control, control_rx) = mpsc::unbounded_channel();
        tokio::spawn(worker(
            exporter,
            queue.clone(),
            control_rx,
            dropped.clone(),
            signal,
            timeout,
        ));
        BoundedProcessor {
            queue,
            control,
            dropped,
            signal,
            timeout,
        }
    }

    fn offer(&self, item: T) {
        let len = {
            let mut items = self.queue.items.lock().unwrap_or_else(|e| e.into_inner());
            if items.len() >= QUEUE_CAPACITY {
                drop(items);
                self.dropped.add(self.signal, 1);
                return;
            }
            items.push(item);
            items.len()
        };
        if len == MAX_BATCH {
            self.queue.full_batch.notify_one();
        }
    }

    /// Asks the worker to export what it holds and waits up to `timeout`.
    /// Blocks the calling thread: call from a blocking context.
    fn request(
        &self,
        make: fn(std::sync::mpsc::Sender<()>) -> Control,
        timeout: Duration,
    ) -> OTelSdkResult {
        let (done, wait) = std::sync::mpsc::channel();
        self.control
            .send(make(done))
            .map_err(|_| OTelSdkError::AlreadyShutdown)?;
        wait.recv_timeout(timeout)
            .map_err(|_| OTelSdkError::Timeout(timeout))
    }
}

async fn worker<T>(
    mut exporter: impl BatchExport<T>,
    queue: Arc<Queue<T>>,
    mut control: mpsc::UnboundedReceiver<Control>,
    dropped: Arc<DroppedCounters>,
    signal: Signal,
    timeout: Duration,
) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let request = tokio::select! {
            _ = queue.full_batch.notified() => None,
            _ = tick.tick() => None,
            request = control.recv() => Some(request),
        };
        let items = std::mem::take(&mut *queue.items.lock().unwrap_or_else(|e| e.into_inner()));
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let mut batch: Vec<T> = items.by_ref().take(MAX_BATCH).collect();
            ship(&mut exporter, &mut batch, &dropped, signal, timeout).await;
        }
        match request {
            None => {}
            Some(Some(Control::Flush(done))) => {
                let _ = done.send(());
            }
            Some(Some(Control::Shutdown(done))) => {
                exporter.shutdown();
                let _ = done.send(());
                return;
            }
            Some(None) => return, // every processor handle is gone
        }
    }
}

async fn ship<T>(
    exporter: &mut impl BatchExport<T>,
    batch: &mut Vec<T>,
    dropped: &DroppedCounters,
    signal: Signal,
    timeout: Duration,
) {
    if batch.is_empty() {
        return;
    }
    let items = std::mem::replace(batch, Vec::with_capacity(MAX_BATCH));
    let n = items.len() as u64;
    match tokio::time::timeout(timeout, exporter.export(items)).await {
        Ok(Ok(())) => {}
        // Logged at debug only: a down backend must not flood the logs it cannot ship.
        Ok(Err(error)) => {
            tracing::debug!(target: "storeops::export", %error, records = n, "telemetry export failed");
            dropped.add(signal, n);
        }
        Err(_) => dropped.add(signal, n),
    }
}

impl SpanProcessor for BoundedProcessor<SpanData> {
    fn on_start(&self, _span: &mut Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.offer(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.request(Control::Flush, self.timeout)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.request(Control::Shutdown, timeout)
    }
}

impl LogProcessor for BoundedProcessor<LogItem> {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        self.offer((record.clone(), scope.clone()));
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.request(Control::Flush, self.timeout)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.request(Control::Shutdown, timeout)
    }
}
