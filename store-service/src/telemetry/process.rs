//! The standard `process_*` metrics, read from `/proc` at scrape time (Linux)
//! through the procfs crate.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use storeops_contract::metrics as m;

/// Writes the `process_*` families of this process at each scrape; nothing
/// when `/proc` cannot be read (not Linux).
#[derive(Debug)]
pub struct ProcessCollector;

/// One reading of this process, in the metrics' units.
#[derive(Debug)]
struct ProcessStats {
    /// User plus system CPU time, seconds.
    cpu_seconds: f64,
    /// Start time, seconds since the Unix epoch.
    start_time_seconds: f64,
    /// Resident set size, bytes.
    resident_bytes: f64,
    /// Virtual memory size, bytes.
    virtual_bytes: f64,
    /// Open file descriptors.
    open_fds: f64,
    /// Soft limit of open file descriptors (+Inf when unlimited).
    max_fds: f64,
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(s) = read_stats() else {
            return Ok(()); // not Linux: nothing to report
        };
        let counter = ConstCounter::new(s.cpu_seconds);
        counter.encode(encoder.encode_descriptor(
            m::family_name(m::PROCESS_CPU_SECONDS_TOTAL),
            "Total user and system CPU time spent in seconds",
            None,
            counter.metric_type(),
        )?)?;
        for (name, help, value) in [
            (
                m::PROCESS_RESIDENT_MEMORY_BYTES,
                "Resident memory size in bytes",
                s.resident_bytes,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                s.virtual_bytes,
            ),
            (
                m::PROCESS_START_TIME_SECONDS,
                "Start time of the process since unix epoch in seconds",
                s.start_time_seconds,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors",
                s.open_fds,
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors",
                s.max_fds,
            ),
        ] {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn read_stats() -> Option<ProcessStats> {
    use procfs::process::{LimitValue, Process};
    let me = Process::myself().ok()?;
    let stat = me.stat().ok()?;
    // Memory from status, not stat: its VmRSS is the exact sum, stat's rss
    // the per-CPU approximation (a few hundred KiB apart).
    let status = me.status().ok()?;
    // stat's times are in clock ticks since boot.
    let ticks = procfs::ticks_per_second() as f64;
    let boot = procfs::boot_time_secs().ok()? as f64;
    let max_fds = match me.limits().ok()?.max_open_files.soft_limit {
        LimitValue::Value(n) => n as f64,
        LimitValue::Unlimited => f64::INFINITY,
    };
    Some(ProcessStats {
        cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
        start_time_seconds: boot + stat.starttime as f64 / ticks,
        resident_bytes: status.vmrss? as f64 * 1024.0,
        virtual_bytes: status.vmsize? as f64 * 1024.0,
        open_fds: me.fd_count().ok()? as f64,
        max_fds,
    })
}

#[cfg(not(target_os = "linux"))]
fn read_stats() -> Option<ProcessStats> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let s = read_stats().expect("/proc is readable on Linux");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        // The test binary started moments ago (a second of slack for rounding to ticks).
        assert!(
            s.start_time_seconds > now - 3600.0 && s.start_time_seconds <= now + 1.0,
            "start {} now {now}",
            s.start_time_seconds
        );
        assert!(s.cpu_seconds >= 0.0, "{s:?}");
        // The heap and the code this test runs are resident; the address space is larger.
        assert!(
            s.resident_bytes > 0.0 && s.virtual_bytes >= s.resident_bytes,
            "{s:?}"
        );
        // stdin, stdout and stderr at least.
        assert!(s.open_fds >= 3.0 && s.max_fds >= s.open_fds, "{s:?}");
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let before = read_stats().unwrap().cpu_seconds;
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
        }
        let after = read_stats().unwrap().cpu_seconds;
        assert!(after > before, "{before} -> {after}");
    }
}
