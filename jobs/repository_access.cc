// SPDX-License-Identifier: Apache-2.0
// Repositories as jobs reach them.
#include "jobs/repository_access.hh"

#include "pipeline/hash.hh"
#include "remote/repository.hh"
#include "remote/snapshot_layout.hh"
#include "storage/catalog.hh"

#include <fmt/format.h>

namespace tv::jobs {

job_result<std::unique_ptr<remote::object_store>> repository_access::open() const {
    auto store = remote::open_store(config);
    if (!store) {
        return from_remote(store.error(), fmt::format("open repository {}", name));
    }
    return std::move(*store);
}

job_result<repository_access> find_repository(const storage::catalog& catalog, const std::string& name) {
    const storage::repository* r = catalog.find_repository(name);
    if (r == nullptr) {
        return make_job_error(status_code::not_found, fmt::format("Repository {} does not exist", name));
    }
    auto config = remote::parse_repository_config(r->location, r->props);
    if (!config) {
        return from_remote(config.error(), fmt::format("repository {}", name));
    }
    return repository_access{r->name, r->read_only, std::move(*config), remote::repository_root(r->name)};
}

io::task<job_result<std::string>> put_checksummed(remote::object_store& store, std::string base, std::string body,
                                                  std::stop_token stop) {
    std::string key = remote::with_checksum(base, pipeline::xxh3_128(std::as_bytes(std::span(body))).hex());
    auto put = co_await store.put(key, std::as_bytes(std::span<const char>(body.data(), body.size())), stop);
    if (!put) {
        co_return from_remote(put.error(), "upload " + key);
    }
    co_return key;
}

job_error from_remote(const remote::remote_error& e, std::string_view what) {
    status_code code = status_code::common_error;
    switch (e.code) {
    case remote::remote_errc::not_found: code = status_code::not_found; break;
    case remote::remote_errc::not_supported: code = status_code::unsupported; break;
    case remote::remote_errc::io_error: code = e.retryable ? status_code::bad_connection : status_code::common_error; break;
    default: break;
    }
    return make_job_error(code, fmt::format("{}: {}", what, e.message));
}

}  // namespace tv::jobs
