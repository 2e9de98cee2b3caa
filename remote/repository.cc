// SPDX-License-Identifier: Apache-2.0
// Repository root naming, __repo_info's JSON, and the ping CREATE REPOSITORY runs.
#include "remote/repository.hh"

#include "remote/local_repository.hh"

#include "tv_version.hh"

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <sstream>

namespace tv::remote {

namespace pt = boost::property_tree;

std::string repository_root(std::string_view name) {
    return fmt::format("{}{}", repository_dir_prefix, name);
}

std::string encode_repo_info(const repo_info& info) {
    // Property trees write every value as a string, which suits StarRocks' own __repo_info
    // ("create_time" is a string there too) and keeps this file free of Boost.JSON's compiled
    // part, which storage/ owns.
    pt::ptree tree;
    tree.put("name", info.name);
    auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(info.create_time_ms));
    tree.put("create_time", fmt::format("{:%Y-%m-%d %H:%M:%S}", std::chrono::floor<std::chrono::seconds>(t)));
    tree.put("create_time_ms", std::to_string(info.create_time_ms));
    tree.put("tabletvault_version", info.version);
    std::ostringstream out;
    pt::write_json(out, tree, false);
    return out.str();
}

remote_result<repo_info> decode_repo_info(std::string_view text) {
    try {
        std::istringstream in{std::string(text)};
        pt::ptree tree;
        pt::read_json(in, tree);
        repo_info info;
        info.name = tree.get<std::string>("name");
        info.create_time_ms = tree.get<int64_t>("create_time_ms", 0);
        info.version = tree.get<std::string>("tabletvault_version", "");
        return info;
    } catch (const std::exception& e) {
        return make_remote_error(remote_errc::io_error, fmt::format("unreadable {}: {}", repo_info_name, e.what()));
    }
}

remote_result<std::unique_ptr<object_store>> open_store(const repository_config& config) {
    if (config.kind == store_kind::local) {
        return std::unique_ptr<object_store>(std::make_unique<local_store>(config.local_path));
    }
    return make_remote_error(remote_errc::not_supported,
                             "S3 repositories are not supported yet: the S3 client is being built");
}

io::task<remote_result<repo_info>> ping_repository(object_store& store, std::string name, bool read_only,
                                                   int64_t now_ms) {
    std::string key = repository_root(name) + "/" + std::string(repo_info_name);
    auto existing = co_await store.get(key);
    if (existing) {
        auto info = decode_repo_info(*existing);
        if (!info) {
            co_return make_remote_error(info.error().code,
                                        fmt::format("{} in {}: {}", key, store.describe(), info.error().message));
        }
        co_return *info;
    }
    if (existing.error().code != remote_errc::not_found) {
        co_return existing.error();
    }
    if (read_only) {
        co_return make_remote_error(remote_errc::not_found,
                                    fmt::format("a READ ONLY repository needs an existing repository: {} not found "
                                                "in {}",
                                                key, store.describe()));
    }
    repo_info info{name, now_ms, TV_VERSION};
    std::string text = encode_repo_info(info);
    auto written = co_await store.put(key, std::as_bytes(std::span<const char>(text.data(), text.size())));
    if (!written) {
        co_return written.error();
    }
    co_return info;
}

}  // namespace tv::remote
