// SPDX-License-Identifier: Apache-2.0
// The two ways a running job's record changes: a step forward, or its end by cancel, timeout
// or failure. Both take the state lock, so a CANCEL that lands while the job journals its next
// state sees either the old state or the new one, and the job never moves after CANCELLED.
#include "jobs/live_job.hh"

#include "io/log.hh"
#include "io/printable.hh"
#include "jobs/job_store.hh"
#include "jobs/repository_access.hh"
#include "remote/object_store.hh"

#include <chrono>

namespace tv::jobs {

live_job::live_job(job_record r) : record(std::move(r)) {}

live_job::~live_job() = default;

job_result<remote::object_store*> live_job::repository_store(const repository_access& repo) {
    if (_store == nullptr || _store_repository != repo.name) {
        auto opened = repo.open();
        if (!opened) {
            return opened.error();
        }
        _store = std::move(*opened);
        _store_repository = repo.name;
    }
    return _store.get();
}

void live_job::adopt_repository_store(std::string repository, std::unique_ptr<remote::object_store> store) {
    _store = std::move(store);
    _store_repository = std::move(repository);
}

int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

io::task<job_result<bool>> advance(job_services& services, live_job& job, job_record next) {
    auto hold = co_await services.state_lock.lock();
    if (is_done(job.record.state)) {
        co_return false;
    }
    auto put = co_await services.store.put(next);
    if (!put) {
        co_return put.error();
    }
    job.record = std::move(next);
    co_return true;
}

namespace {
constexpr size_t max_status_bytes = 4096;
}  // namespace

io::task<job_result<bool>> end_job(job_services& services, live_job& job, job_error why, bool name_state) {
    auto hold = co_await services.state_lock.lock();
    // A restore in COMMITTING has published its data: it can only finish; one whose publish
    // may have reached the disk is finished or retried by a restart.
    if (is_done(job.record.state) || job.record.state == job_state::committing || job.outcome_unknown) {
        co_return false;
    }
    job_record next = job.record;
    next.state = job_state::cancelled;
    next.status = std::move(why);
    if (name_state) {
        next.status.message += fmt::format(", current state: {}", job_state_name(job.record.state));
    }
    if (job.record.type == job_type::backup) {
        if (auto kept = services.store.jobs().find(job.record.id); kept != services.store.jobs().end()) {
            job.final_record = kept->second;
        }
    }
    // A message may quote what a hostile repository holds; the journal takes a bounded record.
    if (next.status.message.size() > max_status_bytes) {
        next.status.message = printable_value(next.status.message, max_status_bytes);
    }
    next.finished_ms = unix_now_ms();
    auto put = co_await services.store.put(next);
    // Stop even when the journal failed: the job must not go on, and a restart resumes it from
    // its last journaled state.
    job.stop.request_stop();
    if (!put) {
        co_return put.error();
    }
    job.record = std::move(next);
    co_return true;
}

io::task<job_result<void>> drive_catching(io::task<job_result<void>> driver) {
    std::string failure;
    try {
        co_return co_await std::move(driver);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    co_return make_job_error(status_code::common_error, fmt::format("internal error: {}", failure));
}

io::task<bool> settle(job_services& services, live_job& job, const job_result<void>& driven, std::string_view kind) {
    const job_record& r = job.record;
    if (job.shutting_down && !is_done(r.state)) {
        TV_LOG_INFO("{} {}: stopped in state {} by shutdown; it resumes at the next start", kind, r.label,
                    job_state_name(r.state));
        co_return false;
    }
    if (job.outcome_unknown && !driven) {
        // Shown by SHOW RESTORE, not journaled: a restart resumes the journaled state.
        job_record shown = r;
        shown.status = driven.error();
        shown.status.message = printable_value(
            fmt::format("{}; whether the restore was published is known after a restart, which finishes or "
                        "retries it",
                        driven.error().message),
            max_status_bytes);
        services.store.put_unjournaled(shown);
        TV_LOG_ERROR("{} {}: stopped in state {}: {}", kind, r.label, job_state_name(r.state), shown.status.message);
        co_return false;
    }
    if (!driven) {
        auto ended = co_await end_job(services, job, driven.error());
        if (!ended) {
            TV_LOG_ERROR("{} {}: could not journal its failure ({}): {}", kind, r.label, driven.error().message,
                         ended.error().message);
            if (r.state == job_state::committing) {
                co_return false;  // its data is published: only a restart, which finishes it, may end it
            }
            // Typically the data dir is full. Left in its state the job would look as if it ran,
            // hold its database, and keep the space its cleanup gives back. It ends here in
            // memory (a later image of the job store may keep that); a restart before then takes
            // it up from its journaled state, and a job whose snapshot directory the cleanup
            // removed then fails for want of it.
            job_record next = r;
            next.state = job_state::cancelled;
            next.status = driven.error();
            next.status.message =
                printable_value(fmt::format("{} (the jobs journal could not record this end: {})",
                                            driven.error().message, ended.error().message),
                                max_status_bytes);
            next.finished_ms = unix_now_ms();
            services.store.put_unjournaled(next);
            job.record = std::move(next);
            TV_LOG_WARN("{} {} failed: {}", kind, r.label, job.record.status.message);
            co_return true;
        }
        if (*ended) {
            TV_LOG_WARN("{} {} failed: {}", kind, r.label, driven.error().message);
        }
    }
    co_return is_done(job.record.state);
}

}  // namespace tv::jobs
