// SPDX-License-Identifier: Apache-2.0
// Catalog changes to users: CREATE / DROP USER, SET PASSWORD, GRANT and REVOKE.
#include "storage/catalog.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace tv::storage {

namespace {

std::string identity(std::string_view name, std::string_view host) {
    return fmt::format("'{}'@'{}'", name, host);
}

storage_result<void> normalize_hash(std::string& hash) {
    if (!is_native_password_hash(hash)) {
        return make_error(storage_errc::bad_definition,
                          "The password hash doesn't have the expected format. Check if the correct password "
                          "algorithm is being used with the PASSWORD() function.");
    }
    std::transform(hash.begin(), hash.end(), hash.begin(), [](unsigned char c) { return std::toupper(c); });
    return {};
}

bool known_role(std::string_view role) {
    return role == role_db_admin || role == role_user_admin;
}

}  // namespace

storage_result<void> catalog::check_user_target(std::string_view name, std::string_view host,
                                                std::string_view operation) const {
    if (name == _root.name) {
        return make_error(storage_errc::not_allowed,
                          fmt::format("Operation {} failed for {}: root is built in and has every privilege", operation,
                                      identity(name, host)));
    }
    if (find_user(name, host) == nullptr) {
        return make_error(storage_errc::unknown_user,
                          fmt::format("Operation {} failed for {}", operation, identity(name, host)));
    }
    return {};
}

io::task<storage_result<void>> catalog::create_user(std::string name, std::string host, std::string password_hash,
                                                    bool if_not_exists) {
    auto hold = co_await _write_lock.lock();
    if (auto e = check_name(name_kind::user, name); !e) {
        co_return e.error();
    }
    if (host.empty()) {
        host = "%";
    }
    if (name == _root.name || find_user(name, host) != nullptr) {
        if (if_not_exists && name != _root.name) {
            co_return storage_result<void>{};
        }
        co_return make_error(storage_errc::user_exists,
                             fmt::format("Operation CREATE USER failed for {}", identity(name, host)));
    }
    if (auto e = normalize_hash(password_hash); !e) {
        co_return e.error();
    }
    user u;
    u.name = std::move(name);
    u.host = std::move(host);
    u.password_hash = std::move(password_hash);
    ops::create_user change{std::move(u)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<void>> catalog::drop_user(std::string name, std::string host, bool if_exists) {
    auto hold = co_await _write_lock.lock();
    if (host.empty()) {
        host = "%";
    }
    if (name == _root.name) {
        co_return make_error(storage_errc::not_allowed,
                             fmt::format("Operation DROP USER failed for {}: root can not be dropped",
                                         identity(name, host)));
    }
    if (find_user(name, host) == nullptr) {
        if (if_exists) {
            co_return storage_result<void>{};
        }
        co_return make_error(storage_errc::unknown_user,
                             fmt::format("Operation DROP USER failed for {}", identity(name, host)));
    }
    ops::drop_user change{std::move(name), std::move(host)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<void>> catalog::set_password(std::string name, std::string host, std::string password_hash) {
    auto hold = co_await _write_lock.lock();
    if (host.empty()) {
        host = "%";
    }
    if (name == _root.name) {
        co_return make_error(storage_errc::not_allowed,
                             "root's password is set by the root_password configuration key");
    }
    if (find_user(name, host) == nullptr) {
        co_return make_error(storage_errc::unknown_user, "Can't find any matching row in the user table");
    }
    if (auto e = normalize_hash(password_hash); !e) {
        co_return e.error();
    }
    ops::set_password change{std::move(name), std::move(host), std::move(password_hash)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<void>> catalog::grant_roles(std::string name, std::string host, std::vector<std::string> roles) {
    return change_roles(std::move(name), std::move(host), std::move(roles), true);
}

io::task<storage_result<void>> catalog::revoke_roles(std::string name, std::string host,
                                                     std::vector<std::string> roles) {
    return change_roles(std::move(name), std::move(host), std::move(roles), false);
}

io::task<storage_result<void>> catalog::change_roles(std::string name, std::string host, std::vector<std::string> roles,
                                                     bool grant) {
    auto hold = co_await _write_lock.lock();
    if (host.empty()) {
        host = "%";
    }
    if (auto e = check_user_target(name, host, grant ? "GRANT" : "REVOKE"); !e) {
        co_return e.error();
    }
    const user* u = find_user(name, host);
    std::vector<std::string> changed;
    for (auto& role : roles) {
        std::transform(role.begin(), role.end(), role.begin(), [](unsigned char c) { return std::tolower(c); });
        if (!known_role(role)) {
            co_return make_error(storage_errc::unknown_role,
                                 fmt::format("Role '{}' does not exist; the roles are {} and {}", role, role_db_admin,
                                             role_user_admin));
        }
        if (u->roles.contains(role) != grant && std::find(changed.begin(), changed.end(), role) == changed.end()) {
            changed.push_back(role);
        }
    }
    if (changed.empty()) {
        co_return storage_result<void>{};  // already so: nothing to journal
    }
    ops::change_roles change{std::move(name), std::move(host), grant, std::move(changed)};
    co_return co_await commit(_state.next_id, std::move(change));
}

io::task<storage_result<void>> catalog::grant_privileges(std::string name, std::string host,
                                                         std::vector<privilege> privs, std::string db,
                                                         std::string table) {
    return change_privileges(std::move(name), std::move(host), std::move(privs), std::move(db), std::move(table), true);
}

io::task<storage_result<void>> catalog::revoke_privileges(std::string name, std::string host,
                                                          std::vector<privilege> privs, std::string db,
                                                          std::string table) {
    return change_privileges(std::move(name), std::move(host), std::move(privs), std::move(db), std::move(table), false);
}

io::task<storage_result<void>> catalog::change_privileges(std::string name, std::string host,
                                                          std::vector<privilege> privs, std::string db,
                                                          std::string table, bool grant) {
    auto hold = co_await _write_lock.lock();
    if (host.empty()) {
        host = "%";
    }
    if (auto e = check_user_target(name, host, grant ? "GRANT" : "REVOKE"); !e) {
        co_return e.error();
    }
    if (privs.empty()) {
        co_return make_error(storage_errc::bad_definition, "No privilege named");
    }
    if (db == "*" && table != "*") {
        co_return make_error(storage_errc::bad_definition, "A table privilege needs a database: use db.table or *.*");
    }
    if (grant && db != "*") {
        const database* d = find_database(db);
        if (d == nullptr) {
            co_return make_error(storage_errc::unknown_database, fmt::format("Unknown database '{}'", db));
        }
        if (table != "*" && !d->tables.contains(table) && !d->views.contains(table) && !d->mvs.contains(table)) {
            co_return make_error(storage_errc::unknown_table, fmt::format("Unknown table '{}.{}'", db, table));
        }
    }
    const user* u = find_user(name, host);
    std::vector<table_grant> changed;
    for (privilege p : privs) {
        table_grant g{p, db, table};
        bool held = u->grants.contains(g);
        if (!grant && !held) {
            co_return make_error(storage_errc::no_such_grant,
                                 fmt::format("There is no such grant defined for user '{}' on host '{}' on table '{}'",
                                             name, host, table == "*" ? db + ".*" : table));
        }
        if (held != grant && std::find(changed.begin(), changed.end(), g) == changed.end()) {
            changed.push_back(std::move(g));
        }
    }
    if (changed.empty()) {
        co_return storage_result<void>{};
    }
    ops::change_grants change{std::move(name), std::move(host), grant, std::move(changed)};
    co_return co_await commit(_state.next_id, std::move(change));
}

}  // namespace tv::storage
