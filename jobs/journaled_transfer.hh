// SPDX-License-Identifier: Apache-2.0
// A job's transfer with its progress journaled as it goes: the transfer engine runs the entries
// while a loop beside it flushes what the observer collected (files done, upload parts) to the
// job store every 250 ms, so a crash loses at most that much finished work.
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"
#include "jobs/live_job.hh"
#include "pipeline/transfer.hh"

#include <vector>

namespace tv::jobs {

class job_store;

/// Collects progress from the transfer's workers (any loop; thread-safe) and journals it on
/// the job store's loop.
class journaled_observer : public pipeline::transfer_observer {
public:
    virtual io::task<job_result<void>> flush(job_store& store) = 0;
};

/// Runs `entries` under the job's stop and limit, journaling through `journal` while it runs and
/// once at the end. A journal that fails stops the transfer: a job that cannot record its
/// progress must not go on. The report is the transfer's; the error is the journal's.
io::task<job_result<pipeline::transfer_report>> run_journaled(job_services& services, live_job& job,
                                                              std::vector<pipeline::transfer_entry> entries,
                                                              pipeline::transfer_options options,
                                                              pipeline::store_opener open,
                                                              journaled_observer& journal);

}  // namespace tv::jobs
