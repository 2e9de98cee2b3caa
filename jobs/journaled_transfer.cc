// SPDX-License-Identifier: Apache-2.0
// The transfer and its journaling loop side by side (see journaled_transfer.hh).
#include "jobs/journaled_transfer.hh"

#include "io/ops.hh"
#include "io/when_all.hh"

#include <chrono>

namespace tv::jobs {

namespace {

/// How often finished work is journaled while a transfer runs.
constexpr auto journal_interval = std::chrono::milliseconds(250);

/// Runs the transfer, then stops the journaling loop beside it.
io::task<void> transfer_then_stop(job_services& services, live_job& job, std::vector<pipeline::transfer_entry> entries,
                                  pipeline::transfer_options options, pipeline::store_opener open,
                                  journaled_observer& journal, pipeline::transfer_report& report,
                                  std::stop_source& journaling) {
    report = co_await services.transfers.run(std::move(entries), options, std::move(open), job.stop.get_token(),
                                             &job.progress, &journal);
    journaling.request_stop();
}

io::task<void> journal_periodically(job_services& services, live_job& job, journaled_observer& journal,
                                    std::stop_token until, job_result<void>& failure) {
    while (!until.stop_requested()) {
        co_await io::sleep(journal_interval, until);
        auto flushed = co_await journal.flush(services.store);
        if (!flushed && failure) {
            failure = flushed.error();
            job.stop.request_stop();
        }
    }
}

}  // namespace

io::task<job_result<pipeline::transfer_report>> run_journaled(job_services& services, live_job& job,
                                                              std::vector<pipeline::transfer_entry> entries,
                                                              pipeline::transfer_options options,
                                                              pipeline::store_opener open,
                                                              journaled_observer& journal) {
    options.job_limit = &job.limit;
    pipeline::transfer_report report;
    std::stop_source journaling;
    job_result<void> journal_failure;
    std::vector<io::task<void>> both;
    both.push_back(transfer_then_stop(services, job, std::move(entries), options, std::move(open), journal, report,
                                      journaling));
    both.push_back(journal_periodically(services, job, journal, journaling.get_token(), journal_failure));
    co_await io::when_all(std::move(both));
    auto flushed = co_await journal.flush(services.store);
    if (!journal_failure) {
        co_return journal_failure.error();
    }
    if (!flushed) {
        co_return flushed.error();
    }
    co_return report;
}

}  // namespace tv::jobs
