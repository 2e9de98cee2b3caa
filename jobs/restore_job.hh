// SPDX-License-Identifier: Apache-2.0
// A RESTORE job as one coroutine: PENDING -> SNAPSHOTING -> DOWNLOAD -> DOWNLOADING -> COMMIT ->
// COMMITTING -> FINISHED, or CANCELLED. Each step's durable result is written before the next
// state is journaled, so a restart continues from the journaled state:
//
//  - PENDING: the snapshot's info, meta and manifest read and checked, the plan made against
//    the catalog (restore_staging.hh) with new ids, and written under the job's directory;
//  - SNAPSHOTING: a staging directory per new tablet, out of sight of queries and loads;
//  - DOWNLOADING: every file fetched (ranged GETs through the transfer engine, under the job's
//    max_download_speed_kbps), its XXH3-128 checked against the manifest as it streams, each
//    one journaled once staged; then every staged segment's own checksums verified;
//  - COMMIT: the staged files hard-linked into their tablet directories, then ONE catalog
//    record publishes every table, partition, version and object at once (after a crash, the
//    catalog says whether it already did);
//  - COMMITTING: the staging directory released.
//
// Until the COMMIT record is durable nothing the job did is visible, and a cancel, a failure or
// a crash leaves every existing table exactly as it was; its staged files are removed (after a
// crash, at the next start).
#pragma once

#include "io/task.hh"
#include "jobs/live_job.hh"
#include "storage/catalog_types.hh"

#include <memory>
#include <set>

namespace tv::jobs {

/// Runs the job from its journaled state until it ends, or until the server shuts down (it
/// then stays in its state and resumes at the next start).
io::task<void> run_restore(job_services& services, std::shared_ptr<live_job> job);

/// For a restore resumed at start-up, before it runs and before the server takes statements:
/// the tables its plan overwrites are locked again, so no load or DDL slips in before the job
/// has read its plan back (a job killed in PENDING has no plan yet, and locks nothing yet); a
/// job killed in COMMIT after its record was published is journaled COMMITTING, so no CANCEL
/// and no timeout that expired while the server was down can end a job whose data is visible.
/// A job killed in COMMIT before publishing adds its new tablets to `placed`: their directories
/// may hold its files already, which the start-up sweep of unreferenced files must leave alone.
io::task<job_result<void>> prepare_resume(job_services& services, job_record& record,
                                          std::set<storage::object_id>& placed);

}  // namespace tv::jobs
