// SPDX-License-Identifier: Apache-2.0
// Catalog changes to backup repositories: CREATE and DROP REPOSITORY (metadata only; reaching
// the store is remote/'s job, done by the caller before it asks for the record).
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <chrono>

namespace tv::storage {

io::task<storage_result<object_id>> catalog::create_repository(repository r) {
    auto hold = co_await _write_lock.lock();
    if (auto e = check_name(name_kind::repository, r.name); !e) {
        co_return e.error();
    }
    if (find_repository(r.name) != nullptr) {
        // StarRocks' words (RepositoryMgr), grammar included.
        co_return make_error(storage_errc::repository_exists,
                             fmt::format("repository with same name already exist: {}", r.name));
    }
    if (r.create_time_ms <= 0) {
        r.create_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    }
    id_allocator ids(_state.next_id);
    r.id = ids.take();
    object_id id = r.id;
    ops::create_repository change{std::move(r)};
    auto done = co_await commit(ids.next(), std::move(change));
    if (!done) {
        co_return done.error();
    }
    co_return id;
}

io::task<storage_result<void>> catalog::drop_repository(std::string name) {
    auto hold = co_await _write_lock.lock();
    if (find_repository(name) == nullptr) {
        co_return make_error(storage_errc::unknown_repository, fmt::format("Repository [{}] does not exist", name));
    }
    ops::drop_repository change{std::move(name)};
    co_return co_await commit(_state.next_id, std::move(change));
}

const repository* catalog::find_repository(std::string_view name) const {
    auto it = _state.repositories.find(std::string(name));
    return it == _state.repositories.end() ? nullptr : &it->second;
}

}  // namespace tv::storage
