// SPDX-License-Identifier: Apache-2.0
// The durable list of jobs: a journal under <data_dir>/jobs (the storage journal: checksummed
// records, fdatasync before a call returns, periodic images). Every state change is written
// here before anyone can see it; a restart reads the jobs back and resumes the running ones.
// Keeps the last job of each database (and of the external catalogs), as StarRocks shows them.
// Belongs to one loop; calls from several coroutines of that loop are taken one at a time.
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"
#include "jobs/job_record.hh"
#include "storage/serial_lock.hh"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tv::storage {
class journal;
}

namespace tv::jobs {

class job_store {
public:
    /// Opens (creating) <data_dir>/jobs and reads every job back.
    static io::task<job_result<std::unique_ptr<job_store>>> open(std::string data_dir);
    ~job_store();
    job_store(const job_store&) = delete;
    job_store& operator=(const job_store&) = delete;

    /// Every job kept, by id.
    const std::map<uint64_t, job_record>& jobs() const noexcept { return _jobs; }
    /// The last job of `db` ("" = the external-catalog job), or null.
    const job_record* last_job(const std::string& db) const;

    /// When each database's last FINISHED backup finished (ms since the epoch): kept, in the
    /// images too, after the job itself is replaced.
    const std::map<std::string, int64_t>& last_successful_backups() const noexcept { return _last_backup_finished; }

    /// Journals `job` (all but its stored files and uploads, which have their own records) and
    /// makes it its database's last job; the one it replaces is forgotten.
    io::task<job_result<void>> put(job_record job);
    /// Shows `job` as it is now without journaling it, for a job whose end the journal could not
    /// take (a full disk): it must not look as if it still ran. A restart brings back the state
    /// journaled last, and the job is taken up from there.
    void put_unjournaled(const job_record& job);
    /// Journals files durably in the repository; their open uploads, if any, are done.
    io::task<job_result<void>> add_stored(uint64_t job_id, std::vector<stored_file> files);
    /// Journals a multipart upload's id and the parts it has so far.
    io::task<job_result<void>> put_upload(uint64_t job_id, std::string key, open_upload upload);
    /// Forgets the stored files and open uploads of a job that no longer needs them.
    io::task<job_result<void>> clear_progress(uint64_t job_id);

    /// Writes an image and closes the journal.
    io::task<void> close();

private:
    job_store() = default;
    io::task<job_result<void>> append(std::string payload);
    void apply(const std::string& payload);
    std::string image() const;

    std::unique_ptr<storage::journal> _journal;
    storage::serial_lock _append_lock;  // the journal takes one append at a time
    std::map<uint64_t, job_record> _jobs;
    std::map<std::string, uint64_t> _last_by_db;
    std::map<std::string, int64_t> _last_backup_finished;
    uint64_t _records_since_image = 0;
};

}  // namespace tv::jobs
