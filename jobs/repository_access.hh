// SPDX-License-Identifier: Apache-2.0
// A job's way into its repository: the catalog's definition turned into a store configuration,
// a store opened on the calling loop, and remote errors as job errors.
#pragma once

#include "io/task.hh"
#include "jobs/job_error.hh"
#include "remote/object_store.hh"
#include "remote/repository_config.hh"

#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

namespace tv::storage {
class catalog;
}

namespace tv::jobs {

struct repository_access {
    std::string name;
    bool read_only = false;
    remote::repository_config config;
    std::string root;  ///< the key prefix of everything the repository holds

    /// A store for the calling loop (an S3 client belongs to the loop it runs on).
    job_result<std::unique_ptr<remote::object_store>> open() const;
};

/// The repository `name` as the catalog has it: "Repository <name> does not exist" otherwise.
job_result<repository_access> find_repository(const storage::catalog& catalog, const std::string& name);

/// Puts `body` under `<base>.<xxh3>` (the layout's checksummed names) and yields that key.
io::task<job_result<std::string>> put_checksummed(remote::object_store& store, std::string base, std::string body,
                                                  std::stop_token stop);

/// A store's failure as a job error: `what` says what the job was doing ("upload the manifest").
job_error from_remote(const remote::remote_error& e, std::string_view what);

}  // namespace tv::jobs
