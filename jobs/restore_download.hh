// SPDX-License-Identifier: Apache-2.0
// RESTORE's DOWNLOADING step: every planned file fetched into staging through the transfer
// engine under the job's limit, every staged segment verified as its bytes stream by (its own
// checksums; read back afterwards only when it was not streamed whole). A file stored alone is one
// resumable download (a restart continues it from its journaled parts); files packed together
// are fetched with one ranged GET per run of neighbours in their pack and written straight into
// their staged files, without a sync each: each journal flush makes its batch durable with one
// syncfs. Each staged file is journaled once its XXH3-128 matched the manifest, so
// a restart fetches only what is missing.
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"
#include "jobs/live_job.hh"
#include "jobs/restore_staging.hh"

#include <cstdint>
#include <string>

namespace tv::jobs {

/// <data_dir>/snapshot/<job>/staging/<tablet>/<name>
std::string staged_file_path(const std::string& data_dir, uint64_t job_id, const restore_download& f);

/// Fetches what is not staged yet and verifies every staged file (its hash and each segment's
/// own checksums as it streams, the parts a resumed file reuses read back into both; a file
/// staged before a restart read back for the latter): BAD_FILE naming the object key (and both hashes) when damaged.
io::task<job_result<void>> download_staged_files(job_services& services, live_job& job, const restore_staging& plan);

}  // namespace tv::jobs
