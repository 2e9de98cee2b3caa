// SPDX-License-Identifier: Apache-2.0
// GET /metrics: the Prometheus text exposition of the server. What lower layers count lives in
// the process registry (io/metrics.hh); jobs, transfers and the buffer pool are read here at
// scrape time from their owners, so nothing is counted twice and a job's numbers are exactly
// what SHOW BACKUP / SHOW RESTORE show.
#pragma once

#include "io/metrics.hh"
#include "jobs/job_tracker.hh"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tv::server {

class transfer_service;

/// Each job's state, progress, rate, limit, retries and failed files, and each database's last
/// successful backup time (`last_successful`: ms since the epoch by database).
void write_job_metrics(io::metrics::text_writer& out, const std::vector<jobs::job_view>& views,
                       const std::map<std::string, int64_t>& last_successful);

/// The whole page. `tracker` and `transfers` may be null (before the job tracker opens, in
/// tests): their families are then left out. Call on the tracker's loop.
std::string metrics_page(const jobs::job_tracker* tracker, transfer_service* transfers);

}  // namespace tv::server
