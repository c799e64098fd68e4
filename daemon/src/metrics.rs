//! Counters for `GET /metrics`, in the Prometheus text exposition format (version 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use haven_core::Action;
use haven_core::verdict::Engine;

use crate::dns::DnsStats;

/// Upper bounds of the request-duration histogram, in seconds.
pub const DURATION_BUCKETS: [f64; 10] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0,
];

/// The daemon's counters. Cheap to update from any thread.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests by (route, status code).
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Checks by (engine, action).
    checks: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Request durations: one counter per bucket (cumulative when written), then +Inf.
    duration_buckets: [AtomicU64; DURATION_BUCKETS.len() + 1],
    duration_sum_micros: AtomicU64,
    /// Successful reloads.
    pub reloads_ok: AtomicU64,
    /// Failed reloads (the old data kept serving).
    pub reloads_failed: AtomicU64,
    /// Audit records that could not be written.
    pub audit_failures: AtomicU64,
    /// Wrong parent passphrases.
    pub auth_failures: AtomicU64,
}

impl Metrics {
    /// Counts one request.
    pub fn count_request(&self, route: &'static str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((route, status))
            .or_default() += 1;
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(DURATION_BUCKETS.len());
        if let Some(counter) = self.duration_buckets.get(bucket) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.duration_sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Counts one check.
    pub fn count_check(&self, engine: Engine, action: Action) {
        *self
            .checks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((engine.id(), action.id()))
            .or_default() += 1;
    }

    /// The text exposition of every counter, with the DNS filter's and the data's gauges.
    pub fn render(&self, dns: &DnsStats, generation: u64, list_entries: usize) -> String {
        let mut out = String::new();
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let _ = writeln!(
            out,
            "# HELP haven_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE haven_http_requests_total counter");
        for ((route, status), n) in &requests {
            let _ = writeln!(
                out,
                "haven_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP haven_http_request_duration_seconds Time to answer HTTP requests."
        );
        let _ = writeln!(out, "# TYPE haven_http_request_duration_seconds histogram");
        let mut cumulative = 0;
        for (i, bound) in DURATION_BUCKETS.iter().enumerate() {
            cumulative += self
                .duration_buckets
                .get(i)
                .map_or(0, |c| c.load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "haven_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self
            .duration_buckets
            .get(DURATION_BUCKETS.len())
            .map_or(0, |c| c.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "haven_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.duration_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "haven_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(
            out,
            "haven_http_request_duration_seconds_count {cumulative}"
        );

        let checks = self
            .checks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let _ = writeln!(
            out,
            "# HELP haven_checks_total Checks by engine and action."
        );
        let _ = writeln!(out, "# TYPE haven_checks_total counter");
        for ((engine, action), n) in &checks {
            let _ = writeln!(
                out,
                "haven_checks_total{{engine=\"{engine}\",action=\"{action}\"}} {n}"
            );
        }
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {value}");
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP haven_reloads_total Reloads of profiles and lists."
        );
        let _ = writeln!(out, "# TYPE haven_reloads_total counter");
        let _ = writeln!(
            out,
            "haven_reloads_total{{result=\"ok\"}} {}",
            load(&self.reloads_ok)
        );
        let _ = writeln!(
            out,
            "haven_reloads_total{{result=\"failed\"}} {}",
            load(&self.reloads_failed)
        );
        counter(
            &mut out,
            "haven_audit_write_failures_total",
            "Audit records that could not be written.",
            load(&self.audit_failures),
        );
        counter(
            &mut out,
            "haven_parent_auth_failures_total",
            "Wrong parent passphrases.",
            load(&self.auth_failures),
        );
        let _ = writeln!(
            out,
            "# HELP haven_dns_queries_total DNS queries by outcome."
        );
        let _ = writeln!(out, "# TYPE haven_dns_queries_total counter");
        for (outcome, value) in [
            ("forwarded", &dns.forwarded),
            ("blocked", &dns.blocked),
            ("rewritten", &dns.rewritten),
            ("upstream_failure", &dns.upstream_failures),
            ("malformed", &dns.malformed),
            ("dropped", &dns.dropped),
        ] {
            let _ = writeln!(
                out,
                "haven_dns_queries_total{{outcome=\"{outcome}\"}} {}",
                load(value)
            );
        }
        counter(
            &mut out,
            "haven_dns_requests_total",
            "DNS queries received.",
            load(&dns.queries),
        );
        let _ = writeln!(
            out,
            "# HELP haven_data_generation Generation of the loaded profiles and lists."
        );
        let _ = writeln!(out, "# TYPE haven_data_generation gauge");
        let _ = writeln!(out, "haven_data_generation {generation}");
        let _ = writeln!(
            out,
            "# HELP haven_list_entries Entries in the loaded lists."
        );
        let _ = writeln!(out, "# TYPE haven_list_entries gauge");
        let _ = writeln!(out, "haven_list_entries {list_entries}");
        out
    }
}
