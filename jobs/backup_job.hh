// SPDX-License-Identifier: Apache-2.0
// A BACKUP job as one coroutine: PENDING -> SNAPSHOTING -> UPLOAD_SNAPSHOT -> UPLOADING ->
// SAVE_META -> UPLOAD_INFO -> FINISHED, or CANCELLED. Each step's durable result is written
// before the next state is journaled, so a restart continues from the journaled state:
//
//  - SNAPSHOTING: the cut (one synchronous step on the catalog's loop), hard links pinning its
//    files, and the cut itself written under the job's snapshot directory;
//  - UPLOADING: the files (backup_upload.hh), then the manifest written locally;
//  - SAVE_META: the meta and the manifest put in the repository, checksummed;
//  - UPLOAD_INFO: the info object, last, so a snapshot is listed OK only when complete.
//
// A cancelled or failed job leaves what it stored for a later backup to reuse, with a partial
// manifest saying what that is, and no info object.
#pragma once

#include "io/task.hh"
#include "jobs/live_job.hh"

#include <memory>

namespace tv::jobs {

/// Runs the job from its journaled state until it ends, or until the server shuts down (it
/// then stays in its state and resumes at the next start).
io::task<void> run_backup(job_services& services, std::shared_ptr<live_job> job);

/// What a cancelled backup's end leaves to do when a crash cut it short (it ran after CANCELLED
/// was journaled): the partial manifest of what it stored, its info object withdrawn (a cancel
/// that came just after the info's PUT), its links released and its progress forgotten.
io::task<void> finish_cancelled_backup(job_services& services, job_record record);

}  // namespace tv::jobs
