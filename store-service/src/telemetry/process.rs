//! The standard `process_*` metrics, read from `/proc` at scrape time (Linux).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use storeops_contract::metrics as m;

/// Clock ticks per second of `/proc/self/stat` times (USER_HZ, 100 on Linux).
const CLOCK_TICKS: f64 = 100.0;

#[derive(Debug)]
pub struct ProcessCollector;

#[derive(Debug, Default, PartialEq)]
struct ProcessStats {
    cpu_seconds: f64,
    start_time_seconds: f64,
    resident_bytes: f64,
    virtual_bytes: f64,
    open_fds: f64,
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

fn read_stats() -> Option<ProcessStats> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as f64;
    parse(&stat, &status, &boot, &limits, open_fds)
}

fn parse(
    stat: &str,
    status: &str,
    boot: &str,
    limits: &str,
    open_fds: f64,
) -> Option<ProcessStats> {
    // Fields after the command name, which may itself hold spaces and parentheses.
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let field = |i: usize| fields.get(i)?.parse::<f64>().ok();
    let kib = |key: &str| {
        let line = status.lines().find(|l| l.starts_with(key))?;
        Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? * 1024.0)
    };
    let btime: f64 = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let max_fds = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        .unwrap_or(0.0);
    Some(ProcessStats {
        cpu_seconds: (field(11)? + field(12)?) / CLOCK_TICKS,
        start_time_seconds: btime + field(19)? / CLOCK_TICKS,
        resident_bytes: kib("VmRSS:")?,
        virtual_bytes: kib("VmSize:")?,
        open_fds,
        max_fds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let stat = "42 (store (svc)) S 1 42 42 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0 1000 123456 789 18446744073709551615";
        let status = "Name:\tstore\nVmSize:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        let boot = "cpu 1 2 3\nbtime 1700000000\n";
        let limits = "Limit Soft Hard Units\nMax open files            1024                 4096                 files\n";
        let s = parse(stat, status, boot, limits, 7.0).unwrap();
        assert_eq!(
            s,
            ProcessStats {
                cpu_seconds: 3.0,
                start_time_seconds: 1_700_000_010.0,
                resident_bytes: 1024.0 * 1024.0,
                virtual_bytes: 2048.0 * 1024.0,
                open_fds: 7.0,
                max_fds: 1024.0,
            }
        );
    }

    #[test]
    fn reads_this_process() {
        let s = read_stats().expect("/proc is readable on Linux");
        assert!(s.resident_bytes > 0.0 && s.start_time_seconds > 1e9);
    }
}
